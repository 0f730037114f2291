/*
 * store_slot.c - slots and the reservations table (read side for part 1) in the store.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "store/store_slot.h"

const char store_m007_sql[] =
        "-- reservation slots (CS-13, CS-16) and the reservations table that part 2 fills\n"
        "-- (part 1 reads it for occupancy, free search and the CS-16/CS-18 guards)\n"
        "CREATE TABLE slots (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  charger_id INTEGER NOT NULL REFERENCES chargers(id),\n"
        "  starts_at INTEGER NOT NULL,\n"
        "  ends_at INTEGER NOT NULL,\n"
        "  hourly_price INTEGER NOT NULL CHECK (hourly_price >= 0),\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  CHECK (ends_at > starts_at)\n"
        ");\n"
        "CREATE INDEX slots_charger ON slots(charger_id, starts_at);\n"
        "CREATE TABLE reservations (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  charger_id INTEGER NOT NULL REFERENCES chargers(id),\n"
        "  user_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  vehicle_id INTEGER NOT NULL REFERENCES vehicles(id),\n"
        "  starts_at INTEGER NOT NULL,\n"
        "  ends_at INTEGER NOT NULL,\n"
        "  status TEXT NOT NULL CHECK (status IN ('pending','confirmed','checked_in','completed',\n"
        "                                         'cancelled','rejected','expired')),\n"
        "  fee INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL,\n"
        "  CHECK (ends_at > starts_at)\n"
        ");\n"
        "CREATE INDEX reservations_charger ON reservations(charger_id, starts_at);\n"
        "CREATE INDEX reservations_user ON reservations(user_id, starts_at);\n";
