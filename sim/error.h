/* Error codes shared by every snn module.
 *
 * Fallible functions return 0 on success or one of the negative codes below.
 * The list is an X-macro so the enum and the strerror text cannot drift apart. */
#ifndef SNN_SIM_ERROR_H
#define SNN_SIM_ERROR_H

#define ERROR_MAP(X)                                                         \
	X(INVAL, -1, "invalid argument")                                     \
	X(NOMEM, -2, "out of memory")                                        \
	X(CLOSED, -3, "peer closed the channel")                             \
	X(TIMEOUT, -4, "receive timed out")                                  \
	X(SIZE, -5, "message size mismatch")                                 \
	X(FAULT, -6, "injected fault")                                       \
	X(RANGE, -7, "value out of range")                                   \
	X(SHAPE, -8, "shapes do not fit")                                    \
	X(IO, -9, "input/output error")                                      \
	X(FORMAT, -10, "malformed input")                                    \
	X(PROTOCOL, -11, "protocol error")                                   \
	X(THREAD, -12, "thread creation failed")                             \
	X(UNSUPPORTED, -13, "not supported")

enum error_code {
	ERROR_OK = 0,
#define ERROR_ENUM(name, value, text) ERROR_##name = value,
	ERROR_MAP(ERROR_ENUM)
#undef ERROR_ENUM
};

#include <stddef.h>

#if defined(__GNUC__)
#define SNN_MUST_CHECK __attribute__((warn_unused_result))
#define SNN_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SNN_MUST_CHECK
#define SNN_PRINTF_LIKE(fmt, args)
#endif

/* Human-readable text for a code from ERROR_MAP (or "unknown error"). */
const char *error_strerror(int code);

/* Short symbolic name ("TIMEOUT") for a code. */
const char *error_name(int code);

/* Format a message into err (err_len bytes; nothing if err is NULL) and
 * return code: "return error_fmt(err, err_len, ERROR_IO, "...", ...);". */
int error_fmt(char *err, size_t err_len, int code, const char *fmt, ...) SNN_PRINTF_LIKE(4, 5);

/* Propagate a negative return code. */
#define TRY(expr)                                                            \
	do {                                                                 \
		int try_rc_ = (expr);                                        \
		if (try_rc_ < 0)                                             \
			return try_rc_;                                      \
	} while (0)

#endif
