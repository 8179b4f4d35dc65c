/* compat.h: attributes shared by every part of pipecast. */
#ifndef PIPECAST_COMPAT_H
#define PIPECAST_COMPAT_H

/* Marks a parameter a callback's signature imposes but the body ignores. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

#endif
