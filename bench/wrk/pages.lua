-- Walks the pages listed in PATHS_FILE in order (a first page and the pages after it,
-- each by the previous page's next_cursor, which bench/rest.py follows before the run),
-- then starts over. Reading cursors out of each response in Lua would cost wrk more CPU
-- than the server spends answering, on the cores they share.
local requests = {}
local next_page = 0

function init(args)
  for line in io.lines(os.getenv("PATHS_FILE")) do
    requests[#requests + 1] = wrk.format("GET", line)
  end
end

request = function()
  next_page = next_page % #requests + 1
  return requests[next_page]
end
