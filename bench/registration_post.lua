-- wrk script for bench/registration.py: valid registrations, each with a fresh email address.
--
--   wrk -t2 -c8 -d5s --latency -s bench/registration_post.lua http://127.0.0.1:PORT/ \
--       -- MODE RUN_ID PATH
--
-- MODE "form": while a thread has no CSRF token yet, its connections GET PATH (the form), take
-- the csrf_token from the HTML and the session cookie from Set-Cookie; after that every request
-- POSTs the form to PATH with that cookie and token (Flask-WTF tokens hold for the session).
-- MODE "plain": POST the same fields straight away, without a form, cookie or real token (for
-- the naive baseline, which checks none).
-- Each email is RUN_ID, the thread, a counter and a random number: unique across the run.
--
-- A 302 is a success; any other status is counted as an error (wrk itself only counts statuses
-- outside 2xx/3xx), and done() prints one line:
--   registration-lua ok=N forms=N posts=N errors=STATUS:COUNT,...
-- (posts: POSTs sent; those still in flight when wrk stops get no answer counted).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

function init(args)
   mode = args[1] or "form"
   run_id = args[2] or tostring(os.time())
   path = args[3] or wrk.path
   math.randomseed(os.time() * 1000 + (thread_id or 0))
   token, cookie = nil, nil
   counter, pending_forms = 0, 0
   ok, forms, statuses = 0, 0, {}
   if mode == "plain" then
      token = string.rep("x", 91) -- about the length of a Flask-WTF token
   end
end

local function urlencode(value)
   return (string.gsub(value, "[^%w%-%._~]", function(c)
      return string.format("%%%02X", string.byte(c))
   end))
end

function request()
   if token == nil then
      pending_forms = pending_forms + 1
      return wrk.format("GET", path)
   end
   counter = counter + 1
   local email = string.format(
      "bench-%s-%d-%d-%d@example.org", run_id, thread_id or 0, counter, math.random(1, 1000000000)
   )
   local body = "csrf_token=" .. urlencode(token)
      .. "&name=" .. urlencode(string.format("Bench person %d", counter))
      .. "&email=" .. urlencode(email)
      .. "&organisation=" .. urlencode("Friends of Bolivia")
      .. "&website="
   local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
   if cookie ~= nil then
      headers["Cookie"] = cookie
   end
   return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
   if pending_forms > 0 and status == 200 then
      local found = string.match(body or "", 'name="csrf_token"[^>]-value="([^"]+)"')
      if found ~= nil then
         pending_forms = pending_forms - 1
         forms = forms + 1
         if token == nil then
            local set_cookie = headers["Set-Cookie"] or headers["set-cookie"]
            if set_cookie ~= nil then
               cookie = string.match(set_cookie, "^([^;]+)")
            end
            token = found
         end
         return
      end
   end
   if status == 302 then
      ok = ok + 1
   else
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total_ok, total_forms, total_posts, errors = 0, 0, 0, {}
   for _, thread in ipairs(threads) do
      total_ok = total_ok + (thread:get("ok") or 0)
      total_forms = total_forms + (thread:get("forms") or 0)
      total_posts = total_posts + (thread:get("counter") or 0)
      for status, count in pairs(thread:get("statuses") or {}) do
         errors[status] = (errors[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(errors) do
      table.insert(parts, string.format("%d:%d", status, count))
   end
   table.sort(parts)
   io.write(string.format(
      "registration-lua ok=%d forms=%d posts=%d errors=%s\n",
      total_ok, total_forms, total_posts, table.concat(parts, ",")
   ))
end
