/* repoch.c: the epoch group of a Redis stream (see repoch.h). */
#include "repoch.h"
#include "resp.h"
#include "units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Finds or creates the epoch group, atomically (Redis runs a script
 * alone): concurrent edges converge on one group. KEYS[1] the stream,
 * ARGV[1] the name a new group gets, ARGV[2] the name to renew (or "").
 * Answers {} when KEY does not exist (it is never created here), else
 * {group, last-generated-id, max-deleted-entry-id (0-0 before Redis 7),
 * entries-added (-1 before Redis 7), length}; WRONGTYPE and ACL refusals
 * come back as errors. */
static const char repoch_script[] =
	"local key, fresh, renew = KEYS[1], ARGV[1], ARGV[2]\n"
	"if redis.call('EXISTS', key) == 0 then return {} end\n"
	"local pat = '^pipecast%-epoch%-' .. string.rep('[0-9a-f]', 16) .. '$'\n"
	"local names = {}\n"
	"for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do\n"
	"  for i = 1, #g, 2 do\n"
	"    if g[i] == 'name' and string.match(g[i + 1], pat) then\n"
	"      names[#names + 1] = g[i + 1]\n"
	"    end\n"
	"  end\n"
	"end\n"
	"table.sort(names)\n"
	"local best = names[1]\n"
	"if best and best == renew then\n"
	"  for _, n in ipairs(names) do redis.call('XGROUP', 'DESTROY', key, n) end\n"
	"  best = nil\n"
	"end\n"
	"if not best then\n"
	"  redis.call('XGROUP', 'CREATE', key, fresh, '$')\n"
	"  best = fresh\n"
	"end\n"
	"local info, f = redis.call('XINFO', 'STREAM', key), {}\n"
	"for i = 1, #info, 2 do f[info[i]] = info[i + 1] end\n"
	"local last, deleted = f['last-generated-id'], f['max-deleted-entry-id'] or '0-0'\n"
	"if not last then return redis.error_reply('XINFO STREAM without last-generated-id') end\n"
	"return {best, last, deleted, f['entries-added'] or -1, f['length']}\n";

/* pipecast-epoch-%016x */
void repoch_name(char *buf, uint64_t epoch)
{
	snprintf(buf, REPOCH_NAME_LEN + 1, REPOCH_PREFIX "%016" PRIx64, epoch);
}

/* The prefix and exactly 16 lowercase hex digits. */
int repoch_name_parse(const char *p, size_t n, uint64_t *epoch)
{
	const size_t pre = sizeof(REPOCH_PREFIX) - 1;
	uint64_t e = 0;

	if (n != REPOCH_NAME_LEN || memcmp(p, REPOCH_PREFIX, pre) != 0)
		return -1;
	for (size_t i = pre; i < n; i++) {
		int d = units_hex_digit(p[i]);

		if (d < 0 || (p[i] >= 'A' && p[i] <= 'F'))   /* lowercase only */
			return -1;
		e = e << 4 | (uint64_t)d;
	}
	*epoch = e;
	return 0;
}

/* EVAL script 1 KEY fresh renew */
size_t repoch_cmd(char *out, size_t cap, const char *key, size_t keylen,
		  uint64_t fresh, uint64_t renew)
{
	char f[REPOCH_NAME_LEN + 1], r[REPOCH_NAME_LEN + 1];
	struct resp_arg argv[] = {
		{ "EVAL", 4 }, { repoch_script, sizeof(repoch_script) - 1 }, { "1", 1 },
		{ key, keylen }, { f, REPOCH_NAME_LEN }, { r, renew ? REPOCH_NAME_LEN : 0 },
	};

	repoch_name(f, fresh);
	repoch_name(r, renew);
	return resp_cmd(out, cap, argv, sizeof(argv) / sizeof(argv[0]));
}

/* Reads one bulk string; RSTREAM_ENTRY when it is one. */
static enum rstream_status repoch_bulk(struct resp_reader *r, const char *buf, size_t len,
				       struct resp_elem *el)
{
	enum resp_status st = resp_next(r, buf, len, el);

	if (st == RESP_MORE)
		return RSTREAM_MORE;
	if (st != RESP_OK)
		return st == RESP_ELIMIT ? RSTREAM_ELIMIT : RSTREAM_EPROTO;
	return el->type == RESP_BULK ? RSTREAM_ENTRY : RSTREAM_EPROTO;
}

/* Reads one integer; RSTREAM_ENTRY when it is one. */
static enum rstream_status repoch_int(struct resp_reader *r, const char *buf, size_t len,
				      int64_t *v)
{
	struct resp_elem el;
	enum resp_status st = resp_next(r, buf, len, &el);

	if (st == RESP_MORE)
		return RSTREAM_MORE;
	if (st != RESP_OK)
		return st == RESP_ELIMIT ? RSTREAM_ELIMIT : RSTREAM_EPROTO;
	*v = el.n;
	return el.type == RESP_INT ? RSTREAM_ENTRY : RSTREAM_EPROTO;
}

/* The five members of a reply for an existing stream. */
static enum rstream_status repoch_pair(struct resp_reader *r, const char *buf, size_t len,
				       struct repoch_reply *rep)
{
	struct resp_elem name, id, del;
	enum rstream_status st;

	if ((st = repoch_bulk(r, buf, len, &name)) != RSTREAM_ENTRY ||
	    (st = repoch_bulk(r, buf, len, &id)) != RSTREAM_ENTRY ||
	    (st = repoch_bulk(r, buf, len, &del)) != RSTREAM_ENTRY)
		return st;
	if (repoch_name_parse(name.str, name.len, &rep->epoch) < 0 ||
	    rstream_id_parse(id.str, id.len, &rep->last_ms, &rep->last_seq) < 0 ||
	    rstream_id_parse(del.str, del.len, &rep->deleted_ms, &rep->deleted_seq) < 0)
		return RSTREAM_EPROTO;
	if ((st = repoch_int(r, buf, len, &rep->added)) != RSTREAM_ENTRY ||
	    (st = repoch_int(r, buf, len, &rep->length)) != RSTREAM_ENTRY)
		return st;
	if (rep->added < -1 || rep->length < 0)
		return RSTREAM_EPROTO;
	rep->exists = true;
	return RSTREAM_END;
}

/* Reads the script's reply (see repoch.h). */
enum rstream_status repoch_read(struct resp_reader *r, const char *buf, size_t len,
				struct repoch_reply *rep, const char **msg, size_t *msglen)
{
	struct resp_reader save = *r;
	struct resp_elem el;
	enum resp_status st;
	enum rstream_status rs;

	memset(rep, 0, sizeof(*rep));
	if ((st = resp_next(r, buf, len, &el)) != RESP_OK)
		return st == RESP_MORE ? RSTREAM_MORE
		       : st == RESP_ELIMIT ? RSTREAM_ELIMIT : RSTREAM_EPROTO;
	if (el.type == RESP_ERROR) {
		*msg = el.str;
		*msglen = el.len;
		return RSTREAM_REPLY_ERROR;
	}
	if (el.type == RESP_ARRAY && el.n == 5)
		rs = repoch_pair(r, buf, len, rep);
	else if ((el.type == RESP_ARRAY || el.type == RESP_NIL) && el.n <= 0)
		rs = RSTREAM_END;
	else
		rs = RSTREAM_EPROTO;
	if (rs != RSTREAM_END)
		*r = save;
	return rs;
}
