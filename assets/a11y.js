/*
 * moviedash: repairs of Dash components' markup for assistive technology.
 *
 * Dash 4's components render a few ARIA faults that no component prop can
 * change (axe-core reports them; the browser suite checks there are none):
 *
 *  - RadioItems and the Dropdown's menu: a role=listbox of role=option labels
 *    around native radio inputs or checkboxes (an interactive role with
 *    focusable children: "nested-interactive", and a listbox without a name).
 *    The layout wraps each radio group in a <fieldset> with a <legend>; here
 *    the listbox/option roles are removed, so what remains are native radio
 *    buttons and checkboxes in a named group.  The menu (a dialog) gets the
 *    control's label as its name, its search box a name of its own.
 *  - Dropdown: keyboard focus first lands on a hidden (aria-hidden) readonly
 *    input that forwards it to the real trigger button ("aria-hidden-focus").
 *    The trigger itself is made the tab stop and the forwarding input is
 *    taken out of the tab order.
 *  - DatePickerRange: aria-expanded on a plain <div> ("aria-allowed-attr");
 *    its calendar (a dialog) has no name, nor has its year box.
 *  - Slider: the thumb (role=slider) and its number box have no name.  The
 *    layout marks the slider's container with data-a11y-label (the id of its
 *    visible label); both get aria-labelledby pointing there.
 *
 * A MutationObserver applies the repairs whenever React adds or re-renders
 * these elements.  Each repair is idempotent, so the observer settles.
 */
(function () {
    "use strict";

    function repair(root) {
        if (!root || !root.querySelectorAll) {
            return;
        }
        root.querySelectorAll(".dash-options-list[role=listbox]").forEach(function (el) {
            el.removeAttribute("role");
        });
        root.querySelectorAll(".dash-options-list [role=option], .dash-options-list [aria-selected]").forEach(function (el) {
            el.removeAttribute("role");
            el.removeAttribute("aria-selected");
        });
        root.querySelectorAll("[role=dialog]:not([aria-labelledby]):not([aria-label])").forEach(function (el) {
            // A dropdown menu or calendar: named like the control that opened it.
            var trigger = el.id && document.querySelector("[aria-controls='" + CSS.escape(el.id) + "']");
            if (!trigger) {
                return;
            }
            var label = trigger.id && document.querySelector("label[for='" + CSS.escape(trigger.id) + "']");
            var group = trigger.closest("[aria-labelledby]");
            if (label && label.id) {
                el.setAttribute("aria-labelledby", label.id);
            } else if (group) {
                el.setAttribute("aria-labelledby", group.getAttribute("aria-labelledby"));
            }
        });
        root.querySelectorAll(".dash-datepicker-content input[type=number]:not([aria-label])").forEach(function (el) {
            el.setAttribute("aria-label", "Year");
        });
        root.querySelectorAll("input.dash-dropdown-search:not([aria-label])").forEach(function (el) {
            el.setAttribute("aria-label", "Search the options");
        });
        root.querySelectorAll(".dash-dropdown-focus-target").forEach(function (el) {
            if (el.tabIndex !== -1) {
                el.tabIndex = -1;
            }
            var trigger = el.nextElementSibling;
            if (trigger && trigger.tagName === "BUTTON" && !trigger.disabled && trigger.tabIndex !== 0) {
                trigger.tabIndex = 0;
            }
        });
        root.querySelectorAll(".dash-datepicker-input-wrapper[aria-expanded]").forEach(function (el) {
            el.removeAttribute("aria-expanded");
        });
        root.querySelectorAll("[data-a11y-label]").forEach(function (box) {
            var label = box.getAttribute("data-a11y-label");
            box.querySelectorAll("[role=slider], input").forEach(function (el) {
                if (el.getAttribute("aria-labelledby") !== label) {
                    el.setAttribute("aria-labelledby", label);
                }
            });
        });
    }

    function start() {
        repair(document);
        new MutationObserver(function (records) {
            // One pass over the document per batch of mutations: cheap (a few selectors).
            if (records.length) {
                repair(document);
            }
        }).observe(document.body, {
            subtree: true,
            childList: true,
            attributes: true,
            attributeFilter: ["role", "aria-selected", "aria-expanded", "tabindex", "aria-labelledby", "aria-label"],
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
