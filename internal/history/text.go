package history

// topic is what a buyer asks about, with how they ask, what agents answer
// and what they say next.
type topic struct {
	name       string
	afterSales bool // about an order the buyer placed already
	asks       []string
	answers    []string
	followUps  []string // the buyer's later questions
	replies    []string // the agent's later answers
}

// Topics are the names of the topics buyers ask about, for Rule.Topic.
var Topics = []string{"发货时间", "尺码", "退换货", "发票", "优惠券", "快递单号", "运费"}

var topics = []topic{
	{name: "发货时间",
		asks:      []string{"什么时候发货？", "今天下单什么时候能发货", "亲，几天能发货呀", "现在拍今天能发吗？", "发货快吗，急用"},
		answers:   []string{"亲，下单后 48 小时内发货，默认中通快递～", "亲，今天 16 点前付款当天就能发出哦", "亲，现货 24 小时内发出，江浙沪一般隔天到～"},
		followUps: []string{"发到广州要几天？", "可以发顺丰吗", "好的，那我现在拍", "周末也发货吗？"},
		replies:   []string{"亲，广州一般 2–3 天能到～", "可以的亲，备注「顺丰」到付补差价就行", "好的亲，拍下后尽快给您安排～", "周末正常发货的亲"}},
	{name: "尺码",
		asks:      []string{"身高170体重65穿什么码？", "这款偏大还是偏小", "我平时穿M，这件选什么尺码", "尺码怎么选啊", "160 50kg 穿哪个码"},
		answers:   []string{"亲，这款偏宽松，身高 165–175 cm、体重 60–70 kg 建议 L 码～", "亲，您这个身材选 M 码刚好，喜欢宽松可以 L 码", "亲，版型正常，按平时尺码拍就可以哦"},
		followUps: []string{"肩宽大概多少？", "那L码衣长多少", "好的，谢谢", "洗了会缩水吗"},
		replies:   []string{"亲，L 码肩宽 46 cm，衣长 72 cm～", "亲，衣长 72 cm 左右，盖住臀部一半", "不客气亲，有问题随时找我～", "亲，按洗涤说明冷水手洗基本不缩水的"}},
	{name: "退换货", afterSales: true,
		asks:      []string{"衣服有点小，可以换大一码吗", "不太合适想退货", "退货怎么操作？", "收到有线头，可以退换吗", "换货运费谁出"},
		answers:   []string{"亲，支持 7 天无理由退换，在订单里申请换货后寄回就可以～", "亲，非常抱歉，您在订单里申请退货，运费险会补贴运费", "亲，麻烦拍张照片给我看看，我们给您处理"},
		followUps: []string{"已经申请了，寄哪个地址？", "好的，我拍照片", "多久能退款？", "换的那件什么时候发"},
		replies:   []string{"亲，申请通过后页面会显示寄回地址～", "收到亲，确认后给您补发或退款", "亲，仓库签收后 1–2 天内退款到账", "亲，收到退件当天就给您发出新的"}},
	{name: "发票",
		asks:      []string{"可以开发票吗？", "能开公司抬头的发票吗", "发票怎么开", "我要开专票"},
		answers:   []string{"亲，可以开电子发票，确认收货后在订单详情点「申请开票」～", "亲，公司抬头可以的，填写抬头和税号就行", "亲，普票和专票都可以开，专票需要提供开票资料哦"},
		followUps: []string{"多久能收到？", "好的谢谢", "发票能写办公用品吗"},
		replies:   []string{"亲，1–3 个工作日发到您的邮箱～", "不客气亲～", "亲，发票内容按实际商品开具哦"}},
	{name: "优惠券",
		asks:      []string{"有优惠券吗？", "能便宜点吗", "满减活动还有吗", "新客有优惠吗", "双十一有什么活动"},
		answers:   []string{"亲，店铺首页可以领满 299 减 30 的优惠券，下单自动抵扣～", "亲，关注店铺再送 5 元无门槛券哦", "亲，现在满 199 减 20，叠加店铺券更划算"},
		followUps: []string{"券在哪里领？", "两件能一起用吗", "好的，我去领"},
		replies:   []string{"亲，店铺首页顶部就能领到～", "可以的亲，一单满额就能用", "好的亲，有问题随时找我～"}},
	{name: "快递单号", afterSales: true,
		asks:      []string{"我的快递到哪了？", "怎么还没收到货", "能查一下快递单号吗", "物流好几天没更新了"},
		answers:   []string{"亲，您的包裹已发出，快递单号在订单详情可以看到～", "亲，我帮您查了，包裹在派送中，今天能到", "亲，非常抱歉，我马上联系快递催一下"},
		followUps: []string{"好的，那我再等等", "单号是多少？", "能帮我催一下吗"},
		replies:   []string{"好的亲，有问题随时找我～", "亲，单号已经发您了，复制到快递官网就能查", "已经帮您催了亲，有消息第一时间告诉您"}},
	{name: "运费",
		asks:      []string{"包邮吗？", "偏远地区加运费吗", "运费多少钱"},
		answers:   []string{"亲，全场满 99 元包邮（偏远地区除外）～", "亲，新疆西藏需要补 10 元运费哦", "亲，满 99 包邮，不满收 6 元运费"},
		followUps: []string{"好的", "那我凑个单", "退货运费呢"},
		replies:   []string{"好的亲～", "好的亲，凑满 99 就包邮啦", "亲，退换货有运费险补贴的"}},
}

// thanks end a conversation on the buyer's side.
var thanks = []string{"好的，谢谢", "明白了，谢谢亲", "好的👌", "谢谢客服", "嗯嗯知道了"}

// ratingComments are what a buyer writes beside a rating, now and then.
var ratingComments = []string{"回复很快，很耐心", "客服态度很好", "问题解决了，谢谢", "发货速度可以", "有点慢，不过解决了"}

// apologies open an agent's answer to a buyer who waited long.
var apologies = []string{"亲，抱歉让您久等了～", "亲，刚才咨询的人比较多，久等了～", "亲，您好，抱歉回复晚了"}

// transferNotes are what an agent tells a colleague taking a conversation over.
var transferNotes = []string{"买家要开专票，麻烦跟进一下", "老客户，问尺码，已推荐 L 码", "退换货问题，帮忙处理一下", "", "买家想要优惠，帮忙看看"}

var defaultBuyerNames = []string{"林小姐", "阿杰", "tb_王先生", "小鱼儿", "快乐的土豆", "陈女士", "大白兔", "周周", "momo酱",
	"刘先生", "橙子不酸", "一只猫", "吴小姐", "星星点灯", "赵先生", "糖糖", "木子李", "hello_kitty", "孙女士", "北方的狼",
	"小米粥", "黄先生", "梦里花", "郑小姐", "阿宝", "南风", "何女士", "tb_小可爱", "罗先生", "甜甜圈", "许小姐", "天天向上",
	"冯先生", "柠檬茶", "韩女士", "大熊", "曹小姐", "小太阳", "彭先生", "夏天的风"}

// product is an item of the catalog orders are made of.
type product struct {
	title string
	sku   string
	cents int64
}

var catalog = []product{
	{"加厚羽绒服 黑色 L", "YRF-BK-L", 29900}, {"加厚羽绒服 白色 M", "YRF-WH-M", 29900}, {"羊毛围巾 灰色", "WJ-GY", 3900},
	{"保暖内衣套装 M", "NY-M", 15900}, {"纯棉卫衣 藏青 XL", "WY-NV-XL", 12900}, {"牛仔裤 直筒 30", "NZK-30", 19900},
	{"羊绒大衣 驼色 M", "DY-CM-M", 79900}, {"针织开衫 米白 S", "KS-MB-S", 16900}, {"加绒打底裤", "DDK-F", 4900},
	{"毛线帽 红色", "MXM-RD", 3900}, {"冲锋衣 三合一 L", "CFY-L", 49900}, {"棉袜 五双装", "WZ-5", 3000},
}
