-- Walks FIRST_PAGE and then up to PAGES-1 further pages by next_cursor, then starts over.
local first = os.getenv("FIRST_PAGE")
local pages = tonumber(os.getenv("PAGES") or "10")
local cursor = nil
local page = 0

request = function()
  if cursor ~= nil and page < pages then
    return wrk.format("GET", first .. "&cursor=" .. cursor)
  end
  page = 0
  return wrk.format("GET", first)
end

response = function(status, headers, body)
  page = page + 1
  cursor = nil
  if status == 200 then
    cursor = string.match(body, '"next_cursor":"([^"]+)"')
  end
end
