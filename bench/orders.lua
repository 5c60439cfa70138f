-- wrk script for bench/bench_orders.py: POST /orders with a random customer token and random
-- book ids on every request, counting answers by status code in every thread.
--
--   wrk -t2 -c8 -d10s -s bench/orders.lua http://127.0.0.1:PORT -- <data file>
--
-- The data file (written by bench_orders.py) has one item per line:
--   token <access token>      one per customer
--   book <id>                 the books of the scenario
--   lines <k>                 distinct books per order (quantity 1 each)
-- done() prints one line "RESULT {json}" that bench_orders.py parses.

local threads = {}

function setup(thread)
   thread:set("thread_no", #threads + 1)
   table.insert(threads, thread)
end

local tokens, books, lines = {}, {}, 1
local headers = {}

function init(args)
   local path = args[1]
   if path == nil then
      error("orders.lua: pass the data file after --")
   end
   local f = assert(io.open(path, "r"))
   for line in f:lines() do
      local kind, value = line:match("^(%S+)%s+(%S+)$")
      if kind == "token" then
         table.insert(tokens, value)
      elseif kind == "book" then
         table.insert(books, tonumber(value))
      elseif kind == "lines" then
         lines = tonumber(value)
      end
   end
   f:close()
   if #tokens == 0 or #books < lines then
      error("orders.lua: the data file needs tokens and at least `lines` books")
   end
   math.randomseed(os.time() * 1000 + thread_no)
   for _ = 1, 10 do math.random() end
   counts = {}
   headers = { ["Content-Type"] = "application/json" }
end

local function pick_books()
   if lines == 1 then
      return { books[math.random(#books)] }
   end
   local chosen, seen = {}, {}
   while #chosen < lines do
      local id = books[math.random(#books)]
      if not seen[id] then
         seen[id] = true
         table.insert(chosen, id)
      end
   end
   return chosen
end

function request()
   local parts = {}
   for i, id in ipairs(pick_books()) do
      parts[i] = string.format('{"book_id":%d,"quantity":1}', id)
   end
   headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
   return wrk.format("POST", "/orders", headers, '{"items":[' .. table.concat(parts, ",") .. "]}")
end

function response(status, hdrs, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local by_status = {}
   for _, thread in ipairs(threads) do
      local c = thread:get("counts")
      if c then
         for status, n in pairs(c) do
            by_status[status] = (by_status[status] or 0) + n
         end
      end
   end
   local status_parts = {}
   for status, n in pairs(by_status) do
      table.insert(status_parts, string.format('"%d":%d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'RESULT {"duration_us":%d,"requests":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"status":{%s}}\n',
      summary.duration, summary.requests,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(status_parts, ",")))
end
