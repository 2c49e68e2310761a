// Deskboard wallboard: keeps the page live from /board/<token>/events (server-sent events).
// Every text goes in with textContent, so names and ticket text can never become markup.
(function () {
  "use strict";
  var ROTATE_MS = 15000;
  var root = document.getElementById("board");
  if (!root) { return; }
  var app = root.getAttribute("data-app");
  var state = null;
  var index = 0;

  function byId(id) { return document.getElementById(id); }

  function node(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text !== undefined && text !== null) { el.textContent = String(text); }
    return el;
  }

  function render() {
    if (!state) { return; }
    var contests = state.contests || [];
    var contest = contests.length ? contests[index % contests.length] : null;
    document.body.className = "theme-" + (state.theme === "light" ? "light" : "dark");
    byId("title").textContent = contest ? contest.name : state.board;
    var sub = "No contests are running.";
    if (contest) {
      sub = contest.label + " · " + contest.window + " · " + contest.rules;
      if (contest.goal) { sub += " · goal " + contest.goal; }
    }
    byId("sub").textContent = sub;
    var prize = byId("prize");
    prize.hidden = !(contest && contest.prize);
    prize.textContent = contest && contest.prize ? "Prize: " + contest.prize : "";
    var list = node("ol");
    list.id = "ranked";
    if (contest) {
      if (!contest.ranked.length) { list.appendChild(node("li", "empty", "Nobody qualifies yet")); }
      contest.ranked.forEach(function (row) {
        var item = node("li", row.winner ? "row winner" : "row");
        item.appendChild(node("span", "rank", row.rank));
        item.appendChild(node("span", "name", row.name));
        var track = node("span", "track");
        var bar = node("meter", "bar");
        bar.min = 0; bar.max = 1; bar.value = row.bar;
        track.appendChild(bar);
        if (contest.goal_at !== null && contest.goal_at !== undefined) {
          var goal = node("i", "goal");
          goal.title = "goal " + contest.goal;
          goal.style.left = (100 * contest.goal_at) + "%";  // CSSOM: allowed by the CSP
          track.appendChild(goal);
        }
        item.appendChild(track);
        item.appendChild(node("span", "value", row.value));
        list.appendChild(item);
      });
    }
    byId("ranked").replaceWith(list);
    var ticker = byId("ticker");
    ticker.textContent = "";
    (state.ticker || []).forEach(function (k) {
      ticker.appendChild(node("span", "kudos", "Kudos · " + k.name + ": #" + k.ticket + " " + k.summary));
    });
    (state.comments || []).forEach(function (c) {
      ticker.appendChild(node("span", "comment", "“" + c.text + "”" + (c.about ? " — about " + c.about : "")));
    });
    byId("asof").textContent = state.as_of || "No data synced yet";
    root.setAttribute("data-live", String(state.version));  // the stream's state is shown
  }

  function connected(ok) { byId("status").hidden = ok; }

  function connect() {
    var source = new EventSource(root.getAttribute("data-stream"));
    source.onmessage = function (event) {
      var next;
      try { next = JSON.parse(event.data); } catch (e) { return; }
      if (next.app && app && next.app !== app) { window.location.reload(); return; }
      connected(true);
      state = next;
      render();
    };
    source.addEventListener("gone", function () {
      source.close();
      byId("title").textContent = "This board was revoked";
      byId("sub").textContent = "Ask a Deskboard admin for a new link.";
      byId("ranked").textContent = "";
    });
    source.onerror = function () { connected(false); };  // EventSource reconnects by itself
  }

  setInterval(function () {
    if (state && state.contests && state.contests.length > 1) {
      index = (index + 1) % state.contests.length;
      render();
    }
  }, ROTATE_MS);
  connect();
})();
