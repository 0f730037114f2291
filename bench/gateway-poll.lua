-- bench/gateway-poll.lua - wrk script for bench/gateway-poll.sh: the gateways'
-- combined poll, GET /api/v1/gateway/poll?cursor=N, spread over many gateways.
-- Each request carries the Authorization header of another gateway.
-- Arguments (after --):
--   1 FILE    one Authorization header value a line (`Basic base64(code:secret)`,
--             what `ingest_load setup --auth-out FILE` writes); every thread reads it
--   2 CURSOR  the cursor to poll from (0: every notice is new)
--   3 MODE    rr (default): thread k of T starts at gateway k*N/T and walks the list
--             round-robin, so together the threads cycle through every gateway;
--             random: a random gateway each request
--   4 CHECK   1 (default): count every answer that is not 200 (also 2xx/3xx ones,
--             which wrk itself does not count); 0: rely on wrk's own count of
--             status >= 400 (no response() callback: wrk then neither copies
--             the headers and body nor calls into Lua per answer)
--   5 THREADS wrk's -t, to spread the threads' starting points evenly
-- done() prints one line,
--   gateway-poll-lua: requests <n> non200 <n> first <status> gateways <used> of <n>
-- (first: the status of the first non-200 answer, 0 if none; used: the gateways
-- that got at least one request).

local threads = {}
local counter = 0

function setup(thread)
        counter = counter + 1
        thread:set("id", counter)
        table.insert(threads, thread)
end

local reqs = {}                 -- the prebuilt requests of this thread, one per gateway
local pos = 0
-- globals: done() reads them through thread:get()
n = 0                           -- gateways in the file
mode = "rr"
start = 0                       -- rr: the index (0-based) this thread started at
used = 0                        -- rr: requests so far, capped at n
non200 = 0                      -- answers that were not 200
first_bad = 0                   -- the status of the first of them

function init(args)
        local file = args[1]
        local cursor = tonumber(args[2] or "0") or 0
        mode = args[3] or "rr"
        if (args[4] or "1") == "0" then response = nil end
        local path = "/api/v1/gateway/poll?cursor=" .. string.format("%d", cursor)
        local f = assert(io.open(file, "r"), "cannot open " .. tostring(file))
        for line in f:lines() do
                if #line > 0 then
                        n = n + 1
                        reqs[n] = wrk.format("GET", path, { ["Authorization"] = line })
                end
        end
        f:close()
        assert(n > 0, "no Authorization lines in " .. file)
        local nthreads = tonumber(args[5] or "1") or 1
        start = math.floor(((id or 1) - 1) * n / nthreads) % n
        pos = start             -- request() steps first: reqs[start + 1] is the first one
        math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
        if mode == "random" then
                return reqs[math.random(n)]
        end
        pos = pos + 1
        if pos > n then pos = 1 end
        if used < n then used = used + 1 end
        return reqs[pos]
end

function response(status, headers, body)
        if status ~= 200 then
                non200 = non200 + 1
                if first_bad == 0 then first_bad = status end
        end
end

-- The gateways that got at least one request: in rr mode the union of the
-- threads' walks (each from its start, `used` steps); in random mode all of
-- them, as far as this script can tell.
local function gateways_used()
        local total, mark, seen = 0, {}, 0
        for _, t in ipairs(threads) do
                total = t:get("n") or 0
                if t:get("mode") == "random" then return total end
        end
        for _, t in ipairs(threads) do
                local start, steps = t:get("start") or 0, math.min(t:get("used") or 0, total)
                for j = 0, steps - 1 do
                        local k = (start + j) % total
                        if not mark[k] then
                                mark[k] = true
                                seen = seen + 1
                        end
                end
        end
        return seen
end

function done(summary, latency, requests)
        local bad, first = 0, 0
        for _, t in ipairs(threads) do
                bad = bad + (t:get("non200") or 0)
                local f = t:get("first_bad") or 0
                if first == 0 then first = f end
        end
        io.write(string.format("gateway-poll-lua: requests %d non200 %d first %d gateways %d of %d\n",
                summary.requests, bad, first, gateways_used(), threads[1] and threads[1]:get("n") or 0))
end
