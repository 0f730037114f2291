/*
 * prefectures.c - the 47 prefectures and their capitals' city halls, and
 * the lookup of a household's free-text prefecture (see prefectures.h).
 */
#include "domain/prefectures.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define TEXT_MAX 64                     /* longer text names no prefecture */

const struct prefecture prefectures[PREFECTURES_COUNT] = {
        { 1, "北海道", "Hokkaido", "札幌市", "Sapporo", 43.0621, 141.3544 },
        { 2, "青森県", "Aomori", "青森市", "Aomori", 40.8222, 140.7474 },
        { 3, "岩手県", "Iwate", "盛岡市", "Morioka", 39.7020, 141.1545 },
        { 4, "宮城県", "Miyagi", "仙台市", "Sendai", 38.2682, 140.8694 },
        { 5, "秋田県", "Akita", "秋田市", "Akita", 39.7186, 140.1024 },
        { 6, "山形県", "Yamagata", "山形市", "Yamagata", 38.2554, 140.3397 },
        { 7, "福島県", "Fukushima", "福島市", "Fukushima", 37.7608, 140.4747 },
        { 8, "茨城県", "Ibaraki", "水戸市", "Mito", 36.3658, 140.4712 },
        { 9, "栃木県", "Tochigi", "宇都宮市", "Utsunomiya", 36.5551, 139.8829 },
        { 10, "群馬県", "Gunma", "前橋市", "Maebashi", 36.3895, 139.0634 },
        { 11, "埼玉県", "Saitama", "さいたま市", "Saitama", 35.8617, 139.6455 },
        { 12, "千葉県", "Chiba", "千葉市", "Chiba", 35.6073, 140.1064 },
        { 13, "東京都", "Tokyo", "新宿区", "Shinjuku", 35.6895, 139.6917 },
        { 14, "神奈川県", "Kanagawa", "横浜市", "Yokohama", 35.4507, 139.6322 },
        { 15, "新潟県", "Niigata", "新潟市", "Niigata", 37.9162, 139.0364 },
        { 16, "富山県", "Toyama", "富山市", "Toyama", 36.6959, 137.2137 },
        { 17, "石川県", "Ishikawa", "金沢市", "Kanazawa", 36.5613, 136.6562 },
        { 18, "福井県", "Fukui", "福井市", "Fukui", 36.0641, 136.2196 },
        { 19, "山梨県", "Yamanashi", "甲府市", "Kofu", 35.6621, 138.5683 },
        { 20, "長野県", "Nagano", "長野市", "Nagano", 36.6486, 138.1948 },
        { 21, "岐阜県", "Gifu", "岐阜市", "Gifu", 35.4232, 136.7606 },
        { 22, "静岡県", "Shizuoka", "静岡市", "Shizuoka", 34.9756, 138.3828 },
        { 23, "愛知県", "Aichi", "名古屋市", "Nagoya", 35.1815, 136.9066 },
        { 24, "三重県", "Mie", "津市", "Tsu", 34.7186, 136.5057 },
        { 25, "滋賀県", "Shiga", "大津市", "Otsu", 35.0045, 135.8686 },
        { 26, "京都府", "Kyoto", "京都市", "Kyoto", 35.0116, 135.7681 },
        { 27, "大阪府", "Osaka", "大阪市", "Osaka", 34.6937, 135.5023 },
        { 28, "兵庫県", "Hyogo", "神戸市", "Kobe", 34.6901, 135.1955 },
        { 29, "奈良県", "Nara", "奈良市", "Nara", 34.6851, 135.8049 },
        { 30, "和歌山県", "Wakayama", "和歌山市", "Wakayama", 34.2261, 135.1675 },
        { 31, "鳥取県", "Tottori", "鳥取市", "Tottori", 35.5011, 134.2351 },
        { 32, "島根県", "Shimane", "松江市", "Matsue", 35.4681, 133.0484 },
        { 33, "岡山県", "Okayama", "岡山市", "Okayama", 34.6551, 133.9195 },
        { 34, "広島県", "Hiroshima", "広島市", "Hiroshima", 34.3853, 132.4553 },
        { 35, "山口県", "Yamaguchi", "山口市", "Yamaguchi", 34.1785, 131.4737 },
        { 36, "徳島県", "Tokushima", "徳島市", "Tokushima", 34.0703, 134.5548 },
        { 37, "香川県", "Kagawa", "高松市", "Takamatsu", 34.3428, 134.0466 },
        { 38, "愛媛県", "Ehime", "松山市", "Matsuyama", 33.8392, 132.7657 },
        { 39, "高知県", "Kochi", "高知市", "Kochi", 33.5597, 133.5311 },
        { 40, "福岡県", "Fukuoka", "福岡市", "Fukuoka", 33.5902, 130.4017 },
        { 41, "佐賀県", "Saga", "佐賀市", "Saga", 33.2494, 130.2988 },
        { 42, "長崎県", "Nagasaki", "長崎市", "Nagasaki", 32.7503, 129.8777 },
        { 43, "熊本県", "Kumamoto", "熊本市", "Kumamoto", 32.8031, 130.7079 },
        { 44, "大分県", "Oita", "大分市", "Oita", 33.2382, 131.6126 },
        { 45, "宮崎県", "Miyazaki", "宮崎市", "Miyazaki", 31.9077, 131.4202 },
        { 46, "鹿児島県", "Kagoshima", "鹿児島市", "Kagoshima", 31.5966, 130.5571 },
        { 47, "沖縄県", "Okinawa", "那覇市", "Naha", 26.2124, 127.6809 },
};

/* Copies text without leading and trailing blanks (ASCII and the
 * ideographic space U+3000) into out; false when it does not fit. */
static bool trimmed(const char *text, char out[TEXT_MAX])
{
        const char *s = text, *e;
        size_t n;

        for (;;) {
                if (*s == ' ' || *s == '\t')
                        s++;
                else if (strncmp(s, "\xe3\x80\x80", 3) == 0)
                        s += 3;
                else
                        break;
        }
        e = s + strlen(s);
        for (;;) {
                if (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                else if (e - s >= 3 && strncmp(e - 3, "\xe3\x80\x80", 3) == 0)
                        e -= 3;
                else
                        break;
        }
        n = (size_t)(e - s);
        if (n == 0 || n >= TEXT_MAX)
                return false;
        memcpy(out, s, n);
        out[n] = '\0';
        return true;
}

static const struct prefecture *by_code(const char *t)
{
        size_t n = strlen(t);
        int code = 0;

        if (n > 2)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char)t[i]))
                        return NULL;
                code = code * 10 + (t[i] - '0');
        }
        return code >= 1 && code <= PREFECTURES_COUNT ? &prefectures[code - 1] : NULL;
}

static const struct prefecture *by_japanese(const char *t)
{
        size_t n = strlen(t);

        for (int i = 0; i < PREFECTURES_COUNT; i++) {
                const char *ja = prefectures[i].name_ja;
                size_t len = strlen(ja);

                if (strcmp(t, ja) == 0)
                        return &prefectures[i];
                /* Without the one-character suffix 都, 府 or 県 (3 bytes). */
                if (prefectures[i].code != 1 && n == len - 3 && strncmp(t, ja, n) == 0)
                        return &prefectures[i];
        }
        return NULL;
}

/* Lower-case ASCII with the macron vowels ō, Ō, ū, Ū folded to o and u;
 * false when t has other non-ASCII characters. */
static bool romaji_fold(const char *t, char out[TEXT_MAX])
{
        size_t k = 0;

        while (*t && k + 1 < TEXT_MAX) {
                unsigned char c = (unsigned char)*t;

                if (c < 0x80) {
                        out[k++] = (char)tolower(c);
                        t++;
                } else if (c == 0xc5 && (t[1] == '\x8c' || t[1] == '\x8d')) {
                        out[k++] = 'o';
                        t += 2;
                } else if (c == 0xc5 && (t[1] == '\xaa' || t[1] == '\xab')) {
                        out[k++] = 'u';
                        t += 2;
                } else {
                        return false;
                }
        }
        out[k] = '\0';
        return *t == '\0';
}

/* Drops one trailing suffix of the list from s (in place). */
static void drop_suffix(char *s, const char *const *suffixes)
{
        size_t n = strlen(s);

        for (size_t i = 0; suffixes[i]; i++) {
                size_t m = strlen(suffixes[i]);

                if (n > m && strcmp(s + n - m, suffixes[i]) == 0) {
                        s[n - m] = '\0';
                        return;
                }
        }
}

static const struct prefecture *by_romaji(const char *t)
{
        static const char *const words[] = { " prefecture", NULL };
        static const char *const kinds[] = { "-ken", " ken", "-fu", " fu", "-to", " to", NULL };
        char f[TEXT_MAX];

        if (!romaji_fold(t, f))
                return NULL;
        drop_suffix(f, words);
        drop_suffix(f, kinds);
        for (int i = 0; i < PREFECTURES_COUNT; i++)
                if (strcasecmp(f, prefectures[i].name_en) == 0)
                        return &prefectures[i];
        return NULL;
}

const struct prefecture *prefecture_find(const char *text)
{
        char t[TEXT_MAX];
        const struct prefecture *p;

        if (!text || !trimmed(text, t))
                return NULL;
        p = by_code(t);
        if (!p)
                p = by_japanese(t);
        if (!p)
                p = by_romaji(t);
        return p;
}
