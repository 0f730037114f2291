-- bench/search.lua - wrk script for bench/search.sh: GET /api/v1/chargers/search
-- around random points near the big cities (the same ones the seeder weights),
-- radius 3-5 km, limit 20, a 2-hour range tomorrow (Tokyo) on the 15-minute grid.
-- Arguments (after --): tomorrow's date YYYY-MM-DD in Tokyo.

local cities = {
        { 35.6812, 139.7671, 30 }, { 35.4437, 139.6380, 8 }, { 34.6937, 135.5023, 12 },
        { 35.1815, 136.9066, 8 }, { 43.0618, 141.3545, 5 }, { 33.5904, 130.4017, 5 },
        { 34.6901, 135.1955, 4 }, { 35.0116, 135.7681, 4 }, { 38.2682, 140.8694, 3 },
        { 34.3853, 132.4553, 3 },
}
local total = 0
for _, c in ipairs(cities) do total = total + c[3] end

local date = "2030-01-01"
local counter = 0

function setup(thread)
        counter = counter + 1
        thread:set("id", counter)
end

function init(args)
        date = args[1] or date
        math.randomseed(os.time() * 1000 + (id or 0))
end

local function gauss()
        local u = math.max(math.random(), 1e-12)
        return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * math.random())
end

function request()
        local pick = math.random(total)
        local c
        for _, city in ipairs(cities) do
                c = city
                if pick <= city[3] then break end
                pick = pick - city[3]
        end
        local sigma = 6 -- km around the centre
        local lat = c[1] + gauss() * sigma / 111.2
        local lon = c[2] + gauss() * sigma / (111.2 * math.cos(math.rad(c[1])))
        local q = math.random(0, 47)            -- start 08:00 .. 19:45
        local sh, sm = 8 + math.floor(q / 4), (q % 4) * 15
        local eh = sh + 2
        local radius = math.random(3000, 5000)
        local path = string.format("/api/v1/chargers/search?lat=%.5f&lon=%.5f&radius_m=%d&limit=20"
                .. "&from=%sT%02d:%02d:00%%2B09:00&to=%sT%02d:%02d:00%%2B09:00",
                lat, lon, radius, date, sh, sm, date, eh, sm)
        return wrk.format("GET", path)
end
