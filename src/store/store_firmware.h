/*
 * store_firmware.h - firmware images, rollout campaigns and the gateways'
 * install reports (HE-14).
 *
 * An image is stored whole as a BLOB (its own table, rowid = image id) and
 * read back in pieces with SQLite's incremental blob I/O, so that a Range
 * request reads only the bytes it asks for. Its manifest and signature are
 * made before it is stored (util/fwsign.h) and kept beside it.
 *
 * A campaign offers one image to the gateways of its model whose current
 * firmware is in its version range, staged by percent (domain/rollout.h).
 * Each gateway's last report per campaign is kept, and the campaign row
 * counts the gateways in each state, so the automatic pause is decided in
 * the same transaction as the report that trips it.
 */
#ifndef ENEMANE_STORE_STORE_FIRMWARE_H
#define ENEMANE_STORE_STORE_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/rollout.h"
#include "store/store.h"
#include "util/fwsign.h"

#define FW_NOTES_MAX 16384              /* bytes of release notes */
#define FW_CODE_MAX 32                  /* characters of a failure code */
#define FW_LIST_MAX 200
#define FW_CAMPAIGNS_ACTIVE_MAX 1000    /* running or paused at once */
#define FW_FAILURE_CODES_MAX 20         /* most frequent codes shown */

struct store_fw_image {
        int64_t id;
        char model[FWSIGN_FIELD_MAX + 1];
        char version[FWSIGN_FIELD_MAX + 1];
        int64_t size;
        char sha256[FWSIGN_SHA256_HEX];
        char manifest[FWSIGN_MANIFEST_MAX];
        char signature[FWSIGN_SIG_B64];
        char key_id[FWSIGN_KEY_ID_HEX];
        char *notes;                    /* malloc'd (store_fw_image_clear), "" when none */
        int64_t created_by;
        int64_t created_at;
};

/* Frees notes. */
void store_fw_image_clear(struct store_fw_image *img);

/* Stores an image (metadata in img, id and notes as given; created_at =
 * now) with its bytes; img->id gets the new id. -EEXIST when the model has
 * this version already. */
int store_fw_image_create(struct store *st, struct store_fw_image *img, const void *data,
                          size_t len, int64_t now);
/* One image (notes included). */
int store_fw_image_get(struct store *st, int64_t id, struct store_fw_image *out);
/* Newest first, model "" any; notes are not loaded (NULL). */
int store_fw_image_list(struct store *st, const char *model, int64_t before_id,
                        struct store_fw_image *out, int max, int *n);
int store_fw_image_set_notes(struct store *st, int64_t id, const char *notes);
/* Copies len bytes of image id from offset into dst: 0, -ENOENT, -EINVAL
 * (outside the image) or -EIO. */
int store_fw_image_read(struct store *st, int64_t id, int64_t offset, size_t len, void *dst);

enum store_fw_cstate { FWC_RUNNING = 0, FWC_PAUSED, FWC_ENDED };

struct store_fw_campaign {
        struct rollout_campaign r;      /* id, model, version, range, percent, running */
        int64_t image_id;
        char state[8];                  /* running | paused | ended */
        char pause_reason[16];          /* "" | operator | failure_rate */
        int64_t failure_pause_pct;
        int64_t failure_min_reports;
        int64_t n_downloading, n_installed, n_failed;
        int64_t created_by;
        int64_t created_at, updated_at, paused_at, ended_at;
        /* The image's, for the offer. */
        int64_t size;
        char sha256[FWSIGN_SHA256_HEX];
        char manifest[FWSIGN_MANIFEST_MAX];
        char signature[FWSIGN_SIG_B64];
};

struct store_fw_campaign_new {
        int64_t image_id;
        const char *from_min, *from_max;        /* "" open */
        int percent;
        int64_t failure_pause_pct;
        int64_t failure_min_reports;
        int64_t created_by;
};

/* Creates a running campaign for an image; *out gets it. -ENOENT no such
 * image, -EADDRINUSE when a running or paused campaign of the same model
 * has an overlapping version range (*out then holds that campaign),
 * -EMFILE when FW_CAMPAIGNS_ACTIVE_MAX campaigns are running or paused. */
int store_fw_campaign_create(struct store *st, const struct store_fw_campaign_new *c,
                             int64_t now, struct store_fw_campaign *out);
int store_fw_campaign_get(struct store *st, int64_t id, struct store_fw_campaign *out);
/* Newest first; state "" any. */
int store_fw_campaign_list(struct store *st, const char *state, int64_t before_id,
                           struct store_fw_campaign *out, int max, int *n);
/* The running and paused campaigns (the poll's cache), oldest first, in a
 * new array (*out, caller frees; NULL when none). At most
 * FW_CAMPAIGNS_ACTIVE_MAX (campaign creation keeps to it). */
int store_fw_campaign_active(struct store *st, struct store_fw_campaign **out, int *n);

/* Operator change: percent (-1 keeps it; lower than now is -ERANGE) and
 * state ("" keeps it; "running", "paused" or "ended"). -ENOENT, -ESTALE
 * (ended: no change possible). *out gets the campaign after. */
int store_fw_campaign_update(struct store *st, int64_t id, int percent, const char *state,
                             int64_t now, struct store_fw_campaign *out);

/* The most frequent failure codes of a campaign's failed gateways. */
struct store_fw_code_count {
        char code[FW_CODE_MAX + 1];
        int64_t n;
};
int store_fw_failure_codes(struct store *st, int64_t campaign_id,
                           struct store_fw_code_count *out, int max, int *n);

/* A gateway's report. */
struct store_fw_report {
        int64_t campaign_id;
        int64_t gateway_id;
        enum rollout_state state;
        const char *code;               /* failed: the gateway's code; else "" */
};
struct store_fw_report_result {
        bool changed;                   /* the gateway's state changed */
        bool paused_now;                /* this report paused the campaign */
        struct store_fw_campaign campaign;      /* after the report */
};
/*
 * Records the report, keeps the campaign's counts, pauses a running
 * campaign whose failure rate reaches its threshold (rollout.h) and, for
 * "installed", sets the gateway's firmware to the campaign's version.
 * -ENOENT no such campaign, -ESTALE campaign ended, -EPERM a change after
 * "installed".
 */
int store_fw_report(struct store *st, const struct store_fw_report *rep, int64_t now,
                    struct store_fw_report_result *out);

/* The SQL of migration 15 (store/migrations.c). */
extern const char store_m015_sql[];

#endif
