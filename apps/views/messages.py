"""Messages: the live feed of incoming messages with their classification; one opens its reply thread."""

import streamlit as st

from apps import context, data, live
from apps.widgets import cards, filters, paging, tables, text
from core.messages.reads import MessageFilter
from core.models import Kind, MessageStatus

PAGE_SIZE = 50

st.title("Messages")
seq = live.follow(live.MESSAGES)
url = context.database_url()
chats = data.chats(url)

row = st.columns(5)
flt = MessageFilter(
    source=row[0].selectbox("Channel", data.channels(url), index=None, key="msg_channel"),
    chat_id=row[1].selectbox(
        "Chat", list(chats), index=None, format_func=filters.chat_name(chats), key="msg_chat"
    ),
    status=row[2].selectbox("Status", list(MessageStatus), index=None, key="msg_status"),
    kind=row[3].selectbox("Classified as", list(Kind), index=None, key="msg_kind"),
    search=row[4].text_input("Search text", key="msg_search").strip() or None,
)
offset = paging.page_offset("msg_page", flt, PAGE_SIZE)
items, total = data.message_feed(url, flt, offset, PAGE_SIZE, seq)
paging.past_the_end("msg_page", offset, len(items))

st.caption(f"{text.count(total, 'message')}, newest first")
st.dataframe(tables.message_rows(items), hide_index=True, key="msg_table")
paging.pager("msg_page", flt, total, PAGE_SIZE)

shown = {m.id: m for m in items}
opened = st.selectbox(
    "Open the reply thread of",
    list(shown),
    index=None,
    format_func=lambda i: f"#{i} {shown[i].author or 'someone'}: {shown[i].text[:80]}",
    key="msg_thread",
)
if opened is not None:
    thread, _ = data.message_feed(url, MessageFilter(thread_of=opened), 0, 200, seq)
    with st.container(border=True, key="thread"):
        st.subheader(f"Thread of message #{opened}")
        for message in sorted(thread, key=lambda m: m.id):
            cards.message_block(message)
            st.caption(text.decided_by(message.issue) if message.issue else "Not classified yet")
