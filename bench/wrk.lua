-- Replays request bodies from a file (one JSON body per line), round-robin, as POSTs to the given path.
-- Usage: wrk -s bench/wrk.lua URL -- BODIES_FILE PATH
local bodies = {}
local path = "/graphql"
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  if args[2] then path = args[2] end
  i = math.random(#bodies)
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, bodies[i])
end
