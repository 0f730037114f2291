/*
 * prefectures.h - Japan's 47 prefectures with their capitals and the
 * coordinates of each capital's city hall (Tokyo: the Metropolitan
 * Government building in Shinjuku), the last fallback for a home's place
 * (HE-11) when neither the registration nor the postcode gives one.
 * Pure data and lookups, no I/O.
 *
 * Coordinates are WGS 84 degrees to four decimals (about 10 m), from the
 * published locations of the city halls; a capital stands for its whole
 * prefecture, so a home may be 100 km or more from it.
 */
#ifndef ENEMANE_DOMAIN_PREFECTURES_H
#define ENEMANE_DOMAIN_PREFECTURES_H

#include <stddef.h>

#define PREFECTURES_COUNT 47

struct prefecture {
        int code;                       /* JIS X 0401: 1 Hokkaido .. 47 Okinawa */
        const char *name_ja;            /* "東京都" */
        const char *name_en;            /* "Tokyo" (Hepburn, without macrons) */
        const char *capital_ja;         /* "新宿区" for Tokyo, else the city: "札幌市" */
        const char *capital_en;         /* "Sapporo" */
        double latitude, longitude;     /* the capital's city hall */
};

/* The table, in JIS code order (index = code - 1). */
extern const struct prefecture prefectures[PREFECTURES_COUNT];

/*
 * The prefecture a household's free-text "prefecture" names, or NULL.
 * Accepted, ignoring surrounding blanks: the Japanese name with or without
 * its suffix ("東京都", "東京"; "北海道" only whole), the romaji name in any
 * case, with or without macrons ("Tōkyō") and a suffix ("Tokyo-to",
 * "Osaka-fu", "Aichi-ken", "Aichi Prefecture"), or the JIS code ("13",
 * "01" or "1").
 */
const struct prefecture *prefecture_find(const char *text);

#endif
