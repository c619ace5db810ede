// The conversation list: grouped by last activity (Today, Yesterday, Previous 7 days, Older),
// filtered by title, each title the full width with Rename and Delete in a menu.
import type { ConversationJson } from './api.js';

export interface SidebarHandlers {
  readonly open: (conversation: ConversationJson) => void;
  readonly rename: (conversation: ConversationJson) => void;
  readonly remove: (conversation: ConversationJson) => void;
}

const GROUPS = ['Today', 'Yesterday', 'Previous 7 days', 'Older'] as const;

/** Which group a conversation last active at `updatedAt` goes in, by local calendar days before `now`. */
export function dateGroup(updatedAt: string, now = new Date()): (typeof GROUPS)[number] {
  const startOfDay = (date: Date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const days = Math.round((startOfDay(now) - startOfDay(new Date(updatedAt))) / 86_400_000);
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days <= 7) return 'Previous 7 days';
  return 'Older';
}

export const titleOf = (conversation: ConversationJson): string => conversation.title ?? 'New chat';

/** Renders the list into `container` (newest activity first, as the server sorts it). */
export function renderSidebar(
  container: HTMLElement,
  conversations: readonly ConversationJson[],
  currentId: string | null,
  filter: string,
  handlers: SidebarHandlers,
): void {
  const wanted = filter.trim().toLowerCase();
  const shown = wanted ? conversations.filter((c) => titleOf(c).toLowerCase().includes(wanted)) : conversations;
  const sections = GROUPS.map((group) => ({ group, items: shown.filter((c) => dateGroup(c.updatedAt) === group) }))
    .filter(({ items }) => items.length > 0)
    .map(({ group, items }) => {
      const section = document.createElement('section');
      section.className = 'group';
      const heading = document.createElement('h2');
      heading.textContent = group;
      const list = document.createElement('ul');
      list.append(...items.map((c) => conversationItem(c, c.id === currentId, handlers)));
      section.setAttribute('aria-label', group);
      section.append(heading, list);
      return section;
    });
  if (sections.length === 0 && wanted) {
    const none = document.createElement('p');
    none.className = 'empty';
    none.textContent = 'No conversation has that in its title.';
    container.replaceChildren(none);
    return;
  }
  container.replaceChildren(...sections);
}

function conversationItem(conversation: ConversationJson, current: boolean, handlers: SidebarHandlers): HTMLLIElement {
  const title = titleOf(conversation);
  const item = document.createElement('li');
  item.className = 'conversation';
  const open = document.createElement('a');
  open.href = `?c=${conversation.id}`;
  open.textContent = title;
  open.title = title;
  if (current) open.setAttribute('aria-current', 'page');
  open.addEventListener('click', (event) => {
    event.preventDefault();
    handlers.open(conversation);
  });

  const menuButton = document.createElement('button');
  menuButton.type = 'button';
  menuButton.className = 'menu-button';
  menuButton.textContent = '⋯';
  menuButton.setAttribute('aria-label', `Actions for “${title}”`);
  menuButton.setAttribute('aria-haspopup', 'menu');
  menuButton.setAttribute('aria-expanded', 'false');
  const menu = document.createElement('div');
  menu.className = 'menu';
  menu.setAttribute('role', 'menu');
  menu.hidden = true;
  const close = () => {
    menu.hidden = true;
    menuButton.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', onOutside, true);
  };
  const onOutside = (event: Event) => {
    if (!item.contains(event.target as Node)) close();
  };
  const entry = (text: string, act: () => void) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('role', 'menuitem');
    button.textContent = text;
    button.addEventListener('click', () => {
      close();
      act();
    });
    return button;
  };
  menu.append(entry('Rename', () => handlers.rename(conversation)), entry('Delete', () => handlers.remove(conversation)));
  menuButton.addEventListener('click', () => {
    if (!menu.hidden) return close();
    menu.hidden = false;
    menuButton.setAttribute('aria-expanded', 'true');
    document.addEventListener('click', onOutside, true);
    menu.querySelector<HTMLButtonElement>('button')?.focus();
  });
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      close();
      menuButton.focus();
    }
  });
  item.append(open, menuButton, menu);
  return item;
}
