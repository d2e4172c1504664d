// Strings of the conversation search (views/search.js) in the left column.
export default {
  'zh-CN': {
    searchLabel: '搜索会话',
    searchPlaceholder: '搜索聊天记录或订单号',
    searching: '搜索中…',
    searchNone: '没有找到相关会话',
    searchFailed: '搜索失败：{why}',
    searchMore: '加载更多结果',
    searchByOrder: '按订单号 {no} 搜索',
  },
  en: {
    searchLabel: 'Search conversations',
    searchPlaceholder: 'Search messages or an order number',
    searching: 'Searching…',
    searchNone: 'No conversation found',
    searchFailed: 'Search failed: {why}',
    searchMore: 'More results',
    searchByOrder: 'By order number {no}',
  },
};
