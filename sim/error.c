#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *error_strerror(int code)
{
	switch (code) {
	case ERROR_OK:
		return "success";
#define ERROR_TEXT(name, value, text)                                        \
	case value:                                                          \
		return text;
		ERROR_MAP(ERROR_TEXT)
#undef ERROR_TEXT
	}
	return "unknown error";
}

const char *error_name(int code)
{
	switch (code) {
	case ERROR_OK:
		return "OK";
#define ERROR_NAME(name, value, text)                                        \
	case value:                                                          \
		return #name;
		ERROR_MAP(ERROR_NAME)
#undef ERROR_NAME
	}
	return "UNKNOWN";
}

int error_fmt(char *err, size_t err_len, int code, const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return code;
}
