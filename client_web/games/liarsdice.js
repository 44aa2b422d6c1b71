// Liar's dice (placeholder until the view shape is final).

export default {
  name: "liarsdice",
  title: "Liar's dice",
  blurb: "Bid on the dice under every cup; call a liar.",
  players: { min: 2, max: 6, default: 3 },
  options: [],
  render(root, view) {
    const pre = document.createElement("pre");
    pre.className = "raw-view";
    pre.textContent = JSON.stringify(view, null, 2);
    root.appendChild(pre);
  },
};
