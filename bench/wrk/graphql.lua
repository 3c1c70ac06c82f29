-- POSTs QUERY_TEMPLATE to /graphql with %s replaced by a random slug from SLUGS_FILE
-- (requests formatted once per thread, in init, as in slugs.lua).
local template = os.getenv("QUERY_TEMPLATE")
local requests = {}

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(os.getenv("SLUGS_FILE")) do
    local query = string.format(template, line)
    local body = '{"query":"' .. query:gsub('"', '\\"') .. '"}'
    requests[#requests + 1] = wrk.format("POST", "/graphql", headers, body)
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

request = function()
  return requests[math.random(#requests)]
end
