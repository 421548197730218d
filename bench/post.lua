-- wrk script: POST the same body (the file given after "--", a VKS upload
-- JSON) on every request: the re-upload of an unchanged cert.
function init(args)
	local f = assert(io.open(args[1], "rb"))
	wrk.method = "POST"
	wrk.body = f:read("*a")
	wrk.headers["Content-Type"] = "application/json"
	f:close()
end
