"""Per-region facts (currency, price scale, tax, address parts) that make fake orders plausible."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """What differs between markets: money, tax, and the pieces of a postal address."""

    code: str
    country: str
    currency: str
    price_min: int  # smallest product price, in minor units (cents)
    price_max: int
    granularity: int  # prices are multiples of this many minor units
    shipping_fee: int  # standard shipping fee in minor units
    free_shipping_over: int  # sub_total from which sellers waive shipping
    tax_rate: float  # sales tax added on top (US); 0 where prices include VAT
    tax_type: str
    phone_prefix: str
    states: tuple[tuple[str, str, str], ...]  # (state, city, postal code)


REGIONS: dict[str, Region] = {
    "US": Region(
        "US",
        "United States",
        "USD",
        499,
        8999,
        1,
        599,
        3500,
        0.0825,
        "SALES_TAX",
        "+1",
        (
            ("California", "Los Angeles", "90012"),
            ("Texas", "Austin", "73301"),
            ("New York", "Brooklyn", "11201"),
            ("Florida", "Miami", "33101"),
            ("Washington", "Seattle", "98101"),
        ),
    ),
    "GB": Region(
        "GB",
        "United Kingdom",
        "GBP",
        299,
        5999,
        1,
        399,
        2500,
        0.0,
        "VAT",
        "+44",
        (
            ("England", "London", "SW1A 1AA"),
            ("Scotland", "Glasgow", "G1 1XQ"),
            ("England", "Manchester", "M1 1AE"),
            ("Wales", "Cardiff", "CF10 1EP"),
        ),
    ),
    "ID": Region(
        "ID",
        "Indonesia",
        "IDR",
        1500000,
        45000000,
        10000,
        1200000,
        20000000,
        0.0,
        "VAT",
        "+62",
        (
            ("DKI Jakarta", "Jakarta Selatan", "12190"),
            ("Jawa Barat", "Bandung", "40111"),
            ("Jawa Timur", "Surabaya", "60111"),
            ("Bali", "Denpasar", "80111"),
        ),
    ),
    "MY": Region(
        "MY",
        "Malaysia",
        "MYR",
        990,
        29900,
        10,
        490,
        5000,
        0.0,
        "SST",
        "+60",
        (
            ("Selangor", "Shah Alam", "40000"),
            ("Kuala Lumpur", "Kuala Lumpur", "50000"),
            ("Johor", "Johor Bahru", "80000"),
            ("Penang", "George Town", "10200"),
        ),
    ),
    "SG": Region(
        "SG",
        "Singapore",
        "SGD",
        290,
        9900,
        10,
        299,
        3000,
        0.0,
        "GST",
        "+65",
        (
            ("Central", "Singapore", "018956"),
            ("East", "Singapore", "460123"),
            ("West", "Singapore", "609601"),
        ),
    ),
    "TH": Region(
        "TH",
        "Thailand",
        "THB",
        9900,
        299000,
        100,
        3800,
        50000,
        0.0,
        "VAT",
        "+66",
        (
            ("Bangkok", "Bang Rak", "10500"),
            ("Chiang Mai", "Mueang", "50000"),
            ("Phuket", "Kathu", "83120"),
        ),
    ),
    "VN": Region(
        "VN",
        "Vietnam",
        "VND",
        5000000,
        120000000,
        100000,
        1800000,
        30000000,
        0.0,
        "VAT",
        "+84",
        (
            ("Ho Chi Minh", "Quan 1", "700000"),
            ("Ha Noi", "Hoan Kiem", "100000"),
            ("Da Nang", "Hai Chau", "550000"),
        ),
    ),
    "PH": Region(
        "PH",
        "Philippines",
        "PHP",
        9900,
        299900,
        100,
        3600,
        50000,
        0.0,
        "VAT",
        "+63",
        (
            ("Metro Manila", "Makati", "1200"),
            ("Cebu", "Cebu City", "6000"),
            ("Davao del Sur", "Davao City", "8000"),
        ),
    ),
}

REGION_CYCLE: tuple[str, ...] = ("US", "GB", "ID", "MY", "SG", "TH", "VN", "PH")

FIRST_NAMES: tuple[str, ...] = (
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Dewi",
    "Siti",
    "Budi",
    "Aisha",
    "Wei",
    "Mei",
    "Nguyen",
    "Linh",
    "Somchai",
    "Maria",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
    "Tan",
    "Lim",
    "Wong",
    "Santoso",
    "Pratama",
    "Rahman",
    "Tran",
    "Le",
    "Garcia",
    "Reyes",
    "Cruz",
    "Miller",
    "Davies",
    "Evans",
    "Thomas",
)
STREETS: tuple[str, ...] = (
    "Main Street",
    "Oak Avenue",
    "High Street",
    "Station Road",
    "Jalan Sudirman",
    "Market Lane",
    "Park Road",
    "Jalan Ampang",
    "Orchard Road",
    "Sukhumvit Road",
)
ADJECTIVES: tuple[str, ...] = (
    "Classic",
    "Soft",
    "Premium",
    "Everyday",
    "Compact",
    "Organic",
    "Vintage",
    "Slim",
    "Cozy",
    "Portable",
    "Ultra",
    "Deluxe",
)
PRODUCTS: tuple[str, ...] = (
    "Cotton T-Shirt",
    "Hoodie",
    "Phone Case",
    "Water Bottle",
    "Lip Gloss",
    "Face Serum",
    "Yoga Mat",
    "Wireless Earbuds",
    "Tote Bag",
    "Desk Lamp",
    "Sneakers",
    "Hair Clip Set",
    "Scented Candle",
    "Travel Mug",
    "Notebook",
    "Sunglasses",
)
VARIANTS: tuple[str, ...] = (
    "Black, S",
    "Black, M",
    "Black, L",
    "White, M",
    "Pink",
    "Blue",
    "Green, One Size",
    "Default",
    "Pack of 2",
    "Pack of 3",
    "Red, XL",
    "Beige",
)
CARRIERS: tuple[tuple[str, str], ...] = (
    ("6617675021119438849", "USPS"),
    ("6617675021119438850", "UPS"),
    ("7117858858072016686", "FedEx"),
    ("6805318893838518018", "Royal Mail"),
    ("7208502187360519982", "J&T Express"),
    ("6888327960541118214", "Ninja Van"),
)
CANCEL_REASONS: tuple[tuple[str, str, str], ...] = (
    ("BUYER", "No longer needed", "BUYER"),
    ("BUYER", "Ordered by mistake", "BUYER"),
    ("SELLER", "Out of stock", "SELLER"),
    ("SYSTEM", "Payment not completed", "SYSTEM"),
)
