/* page.h: the live page that GET / serves (pipecastd(8)), built into the
 * daemon from web/index.html by web/embed.py: the page's bytes and the
 * Content-Security-Policy header value that goes with them (the sha256
 * hashes of its inline script and style; nothing else may load or run). */
#ifndef PIPECAST_PAGE_H
#define PIPECAST_PAGE_H

#include <stddef.h>

extern const unsigned char page_html[];
extern const size_t page_html_len;
extern const char page_csp[];

#endif
