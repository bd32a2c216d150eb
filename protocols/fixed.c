#include "fixed.h"

#include <math.h>

double fixed_max(unsigned frac_bits)
{
	/* The largest double below 2^62 is 2^62 - 2^9 (53-bit mantissa). */
	return ldexp(1.0, FIXED_LIMIT_BITS - (int)frac_bits) -
	       ldexp(1.0, FIXED_LIMIT_BITS - 53 - (int)frac_bits);
}

int fixed_encode(ring_t *out, double x, unsigned frac_bits)
{
	if (frac_bits > FIXED_MAX_FRAC_BITS || isnan(x))
		return ERROR_INVAL;
	double scaled = nearbyint(ldexp(x, (int)frac_bits));
	if (!(fabs(scaled) < ldexp(1.0, FIXED_LIMIT_BITS)))
		return ERROR_RANGE;
	int64_t v = (int64_t)scaled;
	*out = (ring_t)v;
	return 0;
}

int fixed_encode_array(ring_t *out, const double *x, size_t n, unsigned frac_bits,
		       size_t *bad_index)
{
	for (size_t i = 0; i < n; i++) {
		int rc = fixed_encode(&out[i], x[i], frac_bits);
		if (rc < 0) {
			if (bad_index)
				*bad_index = i;
			return rc;
		}
	}
	return 0;
}

double fixed_decode(ring_t x, unsigned frac_bits)
{
	return ldexp((double)ring_signed(x), -(int)frac_bits);
}

void fixed_decode_array(double *out, const ring_t *x, size_t n, unsigned frac_bits)
{
	for (size_t i = 0; i < n; i++)
		out[i] = fixed_decode(x[i], frac_bits);
}

ring_t fixed_mul(ring_t a, ring_t b, unsigned frac_bits)
{
	int64_t p = ring_signed(a * b);
	/* Arithmetic shift written portably (right shift of negatives is
	 * implementation-defined in C11). */
	int64_t q = p >= 0 ? p >> frac_bits : -(int64_t)((~(ring_t)p) >> frac_bits) - 1;
	return (ring_t)q;
}
