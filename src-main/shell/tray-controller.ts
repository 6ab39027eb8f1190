import type { Menu, MenuItemConstructorOptions, NativeImage } from "electron";
import { trayMenuTemplate, type TrayActions, type TrayIconName, type TrayView } from "./tray-view.js";

/** The part of Electron's `Tray` the controller uses. */
export interface TrayLike {
  setImage(image: NativeImage): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu | null): void;
}

export interface TrayController {
  show(view: TrayView): void;
  current(): TrayView | undefined;
}

/**
 * Puts a TrayView on the tray: the icon only when it changes (some desktops flicker), the tooltip and a
 * freshly built menu every time, because Linux's indicator ignores edits to a menu already set.
 */
export function createTrayController(options: {
  tray: TrayLike;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  icon(name: TrayIconName): NativeImage;
  actions: TrayActions;
}): TrayController {
  let shown: TrayView | undefined;
  return {
    show(view) {
      if (view.icon !== shown?.icon) options.tray.setImage(options.icon(view.icon));
      options.tray.setToolTip(view.tooltip);
      options.tray.setContextMenu(options.buildMenu(trayMenuTemplate(view, options.actions)));
      shown = view;
    },
    current: () => shown,
  };
}
