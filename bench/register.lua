-- wrk script for bench/registration.py (see docs/bench.md):
--   wrk -s bench/register.lua URL -- MODE RUN_ID FORM_PATH [PAGE_PATH]
-- MODE "form": each thread GETs FORM_PATH once for its session cookie and CSRF token, then
-- POSTs a registration with a fresh email on every request. MODE "cycle" (one connection per
-- thread): a complete registration again and again: GET PAGE_PATH as a first-time visitor, POST
-- the form with what it gave, GET the page the 302 points at. done() prints one line:
--   bench ok=<302s> posts=<POSTs sent> complete=<cycles> errors=<other answers>

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   mode, run_id, form_path = args[1], args[2], args[3]
   page_path = args[4] or form_path
   math.randomseed(os.time() * 1000 + id)
   token, cookie, step, next_path = nil, nil, "page", nil
   ok, posts, complete, errors, pending = 0, 0, 0, 0, 0
end

local function encode(value)
   return (string.gsub(value, "[^%w%-%._~]", function(c)
      return string.format("%%%02X", string.byte(c))
   end))
end

local function post()
   posts = posts + 1
   local email = string.format("b-%s-%d-%d-%d@example.org", run_id, id, posts, math.random(1e9))
   local body = "csrf_token=" .. encode(token) .. "&name=" .. encode("Bench person " .. posts)
      .. "&email=" .. encode(email) .. "&organisation=Friends+of+Bolivia&website="
   return wrk.format("POST", form_path, {
      ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = cookie,
   }, body)
end

function request()
   if mode == "form" then
      if token == nil then
         pending = pending + 1
         return wrk.format("GET", form_path)
      end
      return post()
   end
   if step == "page" then return wrk.format("GET", page_path) end
   if step == "post" then return post() end
   return wrk.format("GET", next_path, { ["Cookie"] = cookie })
end

local function session(headers)
   local set = headers["Set-Cookie"] or headers["set-cookie"]
   return set and string.match(set, "^([^;]+)") or cookie
end

local function token_in(status, body)
   return status == 200 and string.match(body or "", 'name="csrf_token"[^>]-value="([^"]+)"')
end

function response(status, headers, body)
   if mode == "form" then
      local found = pending > 0 and token_in(status, body)
      if found then
         pending = pending - 1
         if token == nil then token, cookie = found, session(headers) end
      elseif status == 302 then ok = ok + 1 else errors = errors + 1 end
   elseif step == "page" then
      local found = token_in(status, body)
      if found then token, cookie, step = found, session(headers), "post" else errors = errors + 1 end
   elseif step == "post" then
      if status == 302 then
         local location = headers["Location"] or headers["location"] or "/"
         ok, step = ok + 1, "after"
         next_path = string.match(location, "^https?://[^/]+(.*)$") or location
         cookie = session(headers)
      else
         errors, step = errors + 1, "page"
      end
   else
      if status == 200 then complete = complete + 1 else errors = errors + 1 end
      token, cookie, step = nil, nil, "page"
   end
end

function done()
   local totals = { ok = 0, posts = 0, complete = 0, errors = 0 }
   for _, thread in ipairs(threads) do
      for key, _ in pairs(totals) do totals[key] = totals[key] + (thread:get(key) or 0) end
   end
   io.write(string.format("bench ok=%d posts=%d complete=%d errors=%d\n",
      totals.ok, totals.posts, totals.complete, totals.errors))
end
