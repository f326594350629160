// Accessibility (axe rule "region"): the logo that links home sits in the sidebar outside any
// landmark; name that part of the sidebar as the navigation it is.
document.addEventListener("DOMContentLoaded", () => {
  const logo = document.querySelector(".bd-sidebar-primary .navbar-brand");
  const item = logo?.closest(".sidebar-primary-item");
  if (item && !item.closest("nav, [role]")) {
    item.setAttribute("role", "navigation");
    item.setAttribute("aria-label", "Home");
  }
});
