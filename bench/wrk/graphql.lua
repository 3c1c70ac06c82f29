-- POSTs QUERY_TEMPLATE to /graphql with %s replaced by a random slug from SLUGS_FILE.
local slugs = {}
for line in io.lines(os.getenv("SLUGS_FILE")) do
  slugs[#slugs + 1] = line
end
local template = os.getenv("QUERY_TEMPLATE")
math.randomseed(os.time() + math.floor(os.clock() * 1e6))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local query = string.format(template, slugs[math.random(#slugs)])
  local body = '{"query":"' .. query:gsub('"', '\\"') .. '"}'
  return wrk.format("POST", "/graphql", nil, body)
end
