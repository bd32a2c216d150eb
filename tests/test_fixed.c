#include <criterion/criterion.h>
#include <math.h>

#include "fixed.h"

Test(fixed, encodes_worked_examples)
{
	ring_t x;
	cr_assert_eq(fixed_encode(&x, 4.0, 13), 0);
	cr_assert_eq(x, (ring_t)1 << 15, "4.0 is 2^15 with 13 fractional bits");
	cr_assert_eq(fixed_encode(&x, -1.0, 13), 0);
	cr_assert_eq(x, (ring_t)0 - 8192, "-1.0 is 2^64 - 2^13");
	cr_assert_eq(fixed_encode(&x, 0.5, 13), 0);
	cr_assert_eq(x, 4096);
	cr_assert_float_eq(fixed_decode((ring_t)0 - 8192, 13), -1.0, 0.0);
	cr_assert_float_eq(fixed_decode(4096, 13), 0.5, 0.0);
}

Test(fixed, round_trips_random_values)
{
	uint64_t s = 7;
	for (int i = 0; i < 100000; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		double v = ldexp((double)(int64_t)(s >> 11) - ldexp(1.0, 52), -30); /* |v| < 2^23 */
		ring_t x;
		cr_assert_eq(fixed_encode(&x, v, 13), 0, "i=%d v=%g", i, v);
		double back = fixed_decode(x, 13);
		cr_assert_leq(fabs(back - v), ldexp(1.0, -14) * 1.0000001, "i=%d v=%.17g back=%.17g", i, v,
			      back);
	}
}

Test(fixed, edges_zero_one_minus_one)
{
	ring_t x;
	cr_assert_eq(fixed_encode(&x, 0.0, 13), 0);
	cr_assert_eq(x, 0);
	cr_assert_eq(fixed_encode(&x, -0.0, 13), 0);
	cr_assert_eq(x, 0);
	cr_assert_eq(fixed_encode(&x, 1.0, 0), 0);
	cr_assert_eq(x, 1);
	cr_assert_eq(fixed_encode(&x, -1.0, 0), 0);
	cr_assert_eq(x, UINT64_MAX);
	/* Smallest step rounds to nearest. */
	cr_assert_eq(fixed_encode(&x, ldexp(1.0, -13) * 0.49, 13), 0);
	cr_assert_eq(x, 0);
	cr_assert_eq(fixed_encode(&x, ldexp(1.0, -13) * 0.51, 13), 0);
	cr_assert_eq(x, 1);
}

Test(fixed, largest_values_fit_and_beyond_is_refused)
{
	ring_t x;
	double max = fixed_max(13);
	cr_assert_eq(fixed_encode(&x, max, 13), 0);
	cr_assert_eq(x, ((ring_t)1 << 62) - 512, "largest encodable double is 2^62 - 2^9");
	cr_assert_eq(fixed_encode(&x, -max, 13), 0);
	cr_assert_eq(x, (ring_t)0 - (((ring_t)1 << 62) - 512));
	cr_assert_eq(fixed_encode(&x, nextafter(max, INFINITY), 13), ERROR_RANGE);
	cr_assert_eq(fixed_encode(&x, ldexp(1.0, 49), 13), ERROR_RANGE, "2^49 * 2^13 = 2^62 is out");
	cr_assert_eq(fixed_encode(&x, -ldexp(1.0, 49), 13), ERROR_RANGE);
	cr_assert_eq(fixed_encode(&x, INFINITY, 13), ERROR_RANGE);
	cr_assert_eq(fixed_encode(&x, -INFINITY, 13), ERROR_RANGE);
	cr_assert_eq(fixed_encode(&x, NAN, 13), ERROR_INVAL);
	cr_assert_eq(fixed_encode(&x, 1.0, FIXED_MAX_FRAC_BITS + 1), ERROR_INVAL);
}

Test(fixed, encode_array_reports_bad_index)
{
	double v[4] = { 1.0, 2.0, 1e300, 3.0 };
	ring_t x[4];
	size_t bad = 99;
	cr_assert_eq(fixed_encode_array(x, v, 4, 13, &bad), ERROR_RANGE);
	cr_assert_eq(bad, 2);
}

Test(fixed, multiplication_truncates_toward_minus_infinity)
{
	ring_t a, b;
	cr_assert_eq(fixed_encode(&a, 1.5, 13), 0);
	cr_assert_eq(fixed_encode(&b, -2.25, 13), 0);
	cr_assert_float_eq(fixed_decode(fixed_mul(a, b, 13), 13), -3.375, 0.0);
	/* -1 ulp times 0.5 is -0.5 ulp: floor gives -1 ulp. */
	cr_assert_eq(fixed_mul(UINT64_MAX, 4096, 13), UINT64_MAX);
	cr_assert_eq(fixed_mul(1, 4096, 13), 0);
}
