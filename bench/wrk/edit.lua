-- An editorial mix with a publish key over the techniques in SLUGS_FILE: open an item
-- (GET, learning its ETag), then PATCH it or move it through the workflow (published →
-- 70% PATCH, 30% unpublish; draft → 50% PATCH, 50% publish), each with If-Match. The
-- request id names the item, so a response (echoing x-request-id) updates the right
-- item's ETag; a 412 (another connection changed the item first) sends it back to GET.
-- done() prints the outcome counts for bench/writes.py.
local slugs = {}
for line in io.lines(os.getenv("SLUGS_FILE")) do
  slugs[#slugs + 1] = line
end
local key = os.getenv("API_KEY")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  etags, statuses = {}, {}
  ok, stale, errors, reads = 0, 0, 0, 0
  n = 0
end

request = function()
  n = n + 1
  local slug = slugs[math.random(#slugs)]
  local headers = { ["Authorization"] = "Bearer " .. key }
  local rid = function(op) return slug .. "." .. op .. "." .. id .. "." .. n end
  local path = "/v1/techniques/" .. slug
  local etag = etags[slug]
  if etag == nil then
    headers["X-Request-Id"] = rid("get")
    return wrk.format("GET", path, headers)
  end
  headers["If-Match"] = etag
  local roll = math.random()
  if statuses[slug] == "published" and roll < 0.3 then
    headers["X-Request-Id"] = rid("unpublish")
    return wrk.format("POST", path .. "/unpublish", headers)
  elseif statuses[slug] ~= "published" and roll < 0.5 then
    headers["X-Request-Id"] = rid("publish")
    return wrk.format("POST", path .. "/publish", headers)
  end
  headers["X-Request-Id"] = rid("patch")
  headers["Content-Type"] = "application/merge-patch+json"
  local body = '{"summary":"Edited by the benchmark, round ' .. n .. '."}'
  return wrk.format("PATCH", path, headers, body)
end

response = function(status, headers, body)
  local rid = headers["x-request-id"] or headers["X-Request-Id"] or ""
  local slug, op = string.match(rid, "^([^.]+)%.([a-z]+)%.")
  if status == 200 and slug ~= nil then
    etags[slug] = headers["etag"] or headers["ETag"]
    statuses[slug] = string.match(body, '"status":"([a-z_]+)"')
    if op == "get" then reads = reads + 1 else ok = ok + 1 end
  elseif status == 412 then
    stale = stale + 1
    if slug ~= nil then etags[slug] = nil end
  else
    errors = errors + 1
    if slug ~= nil then etags[slug] = nil end
  end
end

function done(summary, latency, requests)
  local t_ok, t_stale, t_errors, t_reads = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok")
    t_reads = t_reads + thread:get("reads")
    t_stale = t_stale + thread:get("stale")
    t_errors = t_errors + thread:get("errors")
  end
  io.write(string.format("outcomes: writes %d stale %d errors %d reads %d\n",
    t_ok, t_stale, t_errors, t_reads))
end
