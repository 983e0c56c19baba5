"""The pages services: the only code that writes the pages tables and page nodes."""

from rustok_pages.services.blocks import BlockDraft, CheckedBlock, check_blocks, served_data
from rustok_pages.services.inputs import MenuLink, NewPage, PageChanges, PageText
from rustok_pages.services.menus import MenuService, MenuTreeItem, link_targets, menu_tree
from rustok_pages.services.page_blocks import PageBlocks
from rustok_pages.services.pages import PAGE, PageService, visible_metadata

__all__ = [
    "PAGE",
    "BlockDraft",
    "CheckedBlock",
    "MenuLink",
    "MenuService",
    "MenuTreeItem",
    "NewPage",
    "PageBlocks",
    "PageChanges",
    "PageService",
    "PageText",
    "check_blocks",
    "link_targets",
    "menu_tree",
    "served_data",
    "visible_metadata",
]
