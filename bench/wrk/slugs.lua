-- Requests PATH_PREFIX .. <random slug> .. PATH_SUFFIX, slugs read from SLUGS_FILE.
local slugs = {}
for line in io.lines(os.getenv("SLUGS_FILE")) do
  slugs[#slugs + 1] = line
end
local prefix = os.getenv("PATH_PREFIX")
local suffix = os.getenv("PATH_SUFFIX") or ""
math.randomseed(os.time() + math.floor(os.clock() * 1e6))

request = function()
  return wrk.format("GET", prefix .. slugs[math.random(#slugs)] .. suffix)
end
