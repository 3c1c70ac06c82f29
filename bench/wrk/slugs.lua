-- Requests PATH_PREFIX .. <random slug> .. PATH_SUFFIX, slugs read from SLUGS_FILE.
-- Requests are formatted once per thread, in init (after wrk has set the Host header):
-- wrk shares the machine's cores with the server, so per-request work in Lua would be
-- measured as if it were the server's.
local prefix = os.getenv("PATH_PREFIX")
local suffix = os.getenv("PATH_SUFFIX") or ""
local requests = {}

function init(args)
  for line in io.lines(os.getenv("SLUGS_FILE")) do
    requests[#requests + 1] = wrk.format("GET", prefix .. line .. suffix)
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

request = function()
  return requests[math.random(#requests)]
end
