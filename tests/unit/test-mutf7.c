#include "mutf7.h"
#include "unit.h"

/* Names that decode to control characters would put NUL, LF, DEL or C1
 * characters into directory names and listings: invalid. */
static void test_encoded_controls(void)
{
	CHECK(!mutf7_valid("&AAA-"));  /* U+0000 */
	CHECK(!mutf7_valid("&AAo-"));  /* LF */
	CHECK(!mutf7_valid("&AB8-"));  /* U+001F */
	CHECK(!mutf7_valid("&AH8-"));  /* DEL */
	CHECK(!mutf7_valid("&AIU-"));  /* NEL, C1 */
	CHECK(!mutf7_valid("a&AJ8-")); /* U+009F */
	CHECK(mutf7_valid("&AKA-"));   /* U+00A0 no-break space: printable */
	CHECK(mutf7_valid("&AOk-t&AOk-"));
}

int main(void)
{
	RUN(test_encoded_controls);
	return unit_done();
}
