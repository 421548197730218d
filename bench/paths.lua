-- wrk script: GET a random path, per request, from the file given after
-- "--" (one path per line).  The same script and sample serve keydird
-- and nginx, so both answer the same requests.
local paths = {}

function init(args)
	for l in io.lines(args[1]) do
		paths[#paths + 1] = l
	end
	-- each wrk thread has its own Lua state: seed each differently
	math.randomseed(os.time() + tonumber(tostring(paths):match("%x+$"), 16))
end

function request()
	return wrk.format("GET", paths[math.random(#paths)])
end
