// imapflow (a real QRESYNC client) against postern-imapd: prints one JSON
// object. Usage: node imapflow-qresync.js PORT [UIDVALIDITY MODSEQ]
// Without a known state: open INBOX, report uidValidity, highestModseq and
// every message's flags. With one: reopen with SELECT ... (QRESYNC ...),
// collect the VANISHED/FETCH events it causes, then UID FETCH CHANGEDSINCE.
'use strict';
const { ImapFlow } = require('imapflow');

async function main() {
    const [port, uidValidity, modseq] = process.argv.slice(2);
    const client = new ImapFlow({
        host: '127.0.0.1', port: Number(port), secure: false, logger: false,
        auth: { user: 'alice', pass: 'secret' }, qresync: true, disableAutoIdle: true,
    });
    const events = { vanished: [], flags: [] };
    client.on('expunge', e => events.vanished.push({ uid: e.uid, vanished: !!e.vanished, earlier: !!e.earlier }));
    client.on('flags', e => events.flags.push({ uid: e.uid, flags: [...e.flags].sort(), modseq: String(e.modseq) }));
    await client.connect();
    const out = { enabled: [...client.enabled].sort() };
    const opts = uidValidity ? { changedSince: BigInt(modseq), uidValidity: BigInt(uidValidity) } : {};
    const mb = await client.mailboxOpen('INBOX', opts);
    out.uidValidity = String(mb.uidValidity);
    out.highestModseq = String(mb.highestModseq);
    out.exists = mb.exists;
    out.messages = [];
    const query = { uid: true, flags: true };
    const fo = uidValidity ? { uid: true, changedSince: BigInt(modseq) } : { uid: true };
    for await (const m of client.fetch('1:*', query, fo))
        out.messages.push({ uid: m.uid, flags: [...m.flags].sort(), modseq: String(m.modseq) });
    out.events = events;
    await client.logout();
    console.log(JSON.stringify(out));
}
main().catch(err => { console.error(err); process.exit(1); });
