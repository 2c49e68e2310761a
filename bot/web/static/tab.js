// The Teams personal tab: sign in with Teams (TeamsJS single sign-on), trade the token for
// the technician's own page, and go there. Outside Teams it says where to open it.
(function () {
  "use strict";
  var status = document.getElementById("tab-status");
  var session = document.body.getAttribute("data-session");
  var teams = window.microsoftTeams;
  var done = false;

  function say(text) {
    done = true;
    status.textContent = text;
  }

  if (!session || !teams) {
    return;
  }
  window.setTimeout(function () {
    if (!done) {
      say("Open this page from the Deskboard app in Microsoft Teams.");
    }
  }, 10000);
  teams.app
    .initialize()
    .then(function () {
      return teams.authentication.getAuthToken();
    })
    .then(function (token) {
      return fetch(session, {
        method: "POST",
        headers: { Authorization: "Bearer " + token },
        credentials: "omit",
        cache: "no-store",
      });
    })
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok || typeof body.url !== "string" || body.url.indexOf("/me/") !== 0) {
          throw new Error(body.error || "Signing in did not work.");
        }
        done = true;
        window.location.replace(body.url);
      });
    })
    .catch(function (error) {
      var text = error && error.message ? error.message : String(error);
      if (/No Parent window/i.test(text)) {
        text = "Open this page from the Deskboard app in Microsoft Teams.";
      }
      say(text);
    });
})();
