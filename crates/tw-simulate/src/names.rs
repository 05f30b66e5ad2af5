//! Static reference data: people and company name parts, places, devices, well-known Microsoft
//! application ids, directory roles and the app roles that grant mail access.
//!
//! The Microsoft identifiers are the public, well-known ones real logs carry; everything else is
//! invented.

/// Given names.
pub const FIRST: &[&str] = &[
    "Adele", "Alex", "Allan", "Amelia", "Ana", "Andre", "Anya", "Ben", "Bianca", "Carlos", "Chen",
    "Chloe", "Christie", "Daniel", "Dana", "Diego", "Elena", "Emily", "Eric", "Fatima", "Finn",
    "Grace", "Grady", "Hannah", "Henrik", "Irvin", "Isaac", "Isabel", "Jakob", "James", "Jana",
    "Joni", "Jordan", "Julia", "Kai", "Karim", "Laura", "Lee", "Lena", "Lidia", "Lucas", "Lynne",
    "Maja", "Marco", "Maria", "Megan", "Miriam", "Nadia", "Nestor", "Nina", "Noah", "Olga", "Omar",
    "Patti", "Pradeep", "Priya", "Rafael", "Rita", "Ruben", "Sara", "Sean", "Sofia", "Stefan",
    "Tamara", "Theo", "Tomas", "Ulla", "Vera", "Viktor", "Wen", "Yara", "Zoe",
];

/// Family names.
pub const LAST: &[&str] = &[
    "Abbott",
    "Alvarez",
    "Bauer",
    "Becker",
    "Bergstrom",
    "Brandt",
    "Brooks",
    "Castillo",
    "Chandra",
    "Cohen",
    "Dalton",
    "Dubois",
    "Eriksen",
    "Fernandes",
    "Fischer",
    "Foster",
    "Garcia",
    "Gupta",
    "Hansen",
    "Hartmann",
    "Hayes",
    "Holm",
    "Ibrahim",
    "Jansen",
    "Jensen",
    "Kaur",
    "Keller",
    "Kowalski",
    "Larsen",
    "Lindqvist",
    "Lopez",
    "Marsh",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Novak",
    "Nyberg",
    "Okafor",
    "Olsen",
    "Ortiz",
    "Patel",
    "Peters",
    "Quinn",
    "Ramos",
    "Reyes",
    "Richter",
    "Rossi",
    "Santos",
    "Schmidt",
    "Schulz",
    "Silva",
    "Sorensen",
    "Stone",
    "Sullivan",
    "Tanaka",
    "Torres",
    "Varga",
    "Vance",
    "Vogel",
    "Walsh",
    "Weber",
    "Wilson",
    "Wright",
    "Young",
    "Zimmer",
];

/// First words of company names.
pub const COMPANY_A: &[&str] = &[
    "Alder",
    "Anchor",
    "Apex",
    "Arbor",
    "Ashford",
    "Aspen",
    "Atlas",
    "Beacon",
    "Birch",
    "Blue Heron",
    "Bramble",
    "Brightwater",
    "Canyon",
    "Cedar",
    "Clearview",
    "Cobalt",
    "Copper",
    "Crescent",
    "Driftwood",
    "Eastgate",
    "Elm",
    "Evergreen",
    "Fairway",
    "Falcon",
    "Fernhill",
    "Fieldstone",
    "Foxglove",
    "Granite",
    "Greenleaf",
    "Harbor",
    "Hawthorn",
    "Highland",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Larkspur",
    "Lighthouse",
    "Linden",
    "Maple",
    "Meadow",
    "Meridian",
    "Millbrook",
    "Northgate",
    "Oakridge",
    "Orchard",
    "Pinecrest",
    "Pioneer",
    "Quarry",
    "Redwood",
    "Riverbend",
    "Rosewood",
    "Saltmarsh",
    "Sandstone",
    "Silverline",
    "Southport",
    "Stonebridge",
    "Summit",
    "Sycamore",
    "Thistle",
    "Timberline",
    "Trident",
    "Valley",
    "Westbrook",
    "Willow",
    "Windmill",
];

/// Second words of company names.
pub const COMPANY_B: &[&str] = &[
    "Accounting",
    "Analytics",
    "Architects",
    "Bakery",
    "Builders",
    "Capital",
    "Clinic",
    "Consulting",
    "Dental",
    "Design",
    "Engineering",
    "Farms",
    "Foods",
    "Freight",
    "Health",
    "Hotels",
    "Insurance",
    "Law",
    "Legal",
    "Logistics",
    "Manufacturing",
    "Marine",
    "Media",
    "Medical",
    "Motors",
    "Pharmacy",
    "Properties",
    "Realty",
    "Retail",
    "Robotics",
    "Schools",
    "Shipping",
    "Solar",
    "Studios",
    "Supply",
    "Surveying",
    "Textiles",
    "Travel",
    "Veterinary",
    "Wealth",
];

/// Second words of the reseller's name.
pub const PARTNER_B: &[&str] = &[
    "Cloud Services",
    "IT Solutions",
    "Managed IT",
    "Technology Partners",
    "Networks",
    "Digital Services",
];

/// A place: city, state, two-letter country, latitude, longitude, UTC offset in hours, domain TLD.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// City.
    pub city: &'static str,
    /// State or region.
    pub state: &'static str,
    /// Two-letter country code.
    pub country: &'static str,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Offset from UTC in hours (standard time).
    pub utc_offset: i64,
    /// Top-level domain companies there use.
    pub tld: &'static str,
}

const fn place(
    city: &'static str,
    state: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    utc_offset: i64,
    tld: &'static str,
) -> Place {
    Place {
        city,
        state,
        country,
        lat,
        lon,
        utc_offset,
        tld,
    }
}

/// Where tenants, their people and the honest partner are.
pub const PLACES: &[Place] = &[
    place("Seattle", "Washington", "US", 47.6062, -122.3321, -8, "com"),
    place("Chicago", "Illinois", "US", 41.8781, -87.6298, -6, "com"),
    place(
        "Boston",
        "Massachusetts",
        "US",
        42.3601,
        -71.0589,
        -5,
        "com",
    ),
    place("Austin", "Texas", "US", 30.2672, -97.7431, -6, "com"),
    place("Denver", "Colorado", "US", 39.7392, -104.9903, -7, "com"),
    place("Atlanta", "Georgia", "US", 33.749, -84.388, -5, "com"),
    place("Toronto", "Ontario", "CA", 43.6532, -79.3832, -5, "ca"),
    place("Manchester", "England", "GB", 53.4808, -2.2426, 0, "co.uk"),
    place("Leeds", "England", "GB", 53.8008, -1.5491, 0, "co.uk"),
    place("Bristol", "England", "GB", 51.4545, -2.5879, 0, "co.uk"),
    place("Dublin", "Dublin", "IE", 53.3498, -6.2603, 0, "ie"),
    place("Utrecht", "Utrecht", "NL", 52.0907, 5.1214, 1, "nl"),
    place("Hamburg", "Hamburg", "DE", 53.5511, 9.9937, 1, "de"),
    place("Munich", "Bavaria", "DE", 48.1351, 11.582, 1, "de"),
    place(
        "Gothenburg",
        "Vastra Gotaland",
        "SE",
        57.7089,
        11.9746,
        1,
        "se",
    ),
    place(
        "Lyon",
        "Auvergne-Rhone-Alpes",
        "FR",
        45.764,
        4.8357,
        1,
        "fr",
    ),
    place(
        "Melbourne",
        "Victoria",
        "AU",
        -37.8136,
        144.9631,
        10,
        "com.au",
    ),
];

/// Where the attacker's rented servers are.
pub const ATTACKER_PLACES: &[Place] = &[
    place("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, 1, "nl"),
    place("Bucharest", "Bucuresti", "RO", 44.4268, 26.1025, 2, "ro"),
    place("Singapore", "Singapore", "SG", 1.3521, 103.8198, 8, "sg"),
    place("Dallas", "Texas", "US", 32.7767, -96.797, -6, "com"),
    place("Helsinki", "Uusimaa", "FI", 60.1699, 24.9384, 2, "fi"),
];

/// Azure regions an application's own egress addresses sit in.
pub const CLOUD_PLACES: &[Place] = &[
    place("Des Moines", "Iowa", "US", 41.5868, -93.625, -6, "com"),
    place("Dublin", "Dublin", "IE", 53.3498, -6.2603, 0, "ie"),
    place("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, 1, "nl"),
];

/// First octets benign networks use (residential, business and mobile ISPs).
pub const BENIGN_OCTETS: &[u8] = &[
    24, 62, 66, 68, 71, 73, 76, 80, 81, 82, 84, 86, 88, 90, 92, 94, 96, 98, 99, 108, 109, 174, 178,
    212, 217,
];

/// First octets of cloud provider egress used by legitimate applications.
pub const CLOUD_OCTETS: &[u8] = &[13, 20, 40, 52];

/// First two octets of the attacker's hosting ranges (never used by benign activity).
pub const ATTACKER_PREFIXES: &[[u8; 2]] = &[
    [185, 220],
    [185, 244],
    [45, 153],
    [45, 86],
    [193, 29],
    [194, 165],
    [5, 181],
    [91, 219],
    [103, 75],
    [146, 70],
];

/// A device: operating system, browser, user agent.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    /// Operating system as the sign-in log names it.
    pub os: &'static str,
    /// Browser as the sign-in log names it.
    pub browser: &'static str,
    /// User agent string.
    pub ua: &'static str,
}

/// Benign users' devices.
pub const DEVICES: &[Device] = &[
    Device {
        os: "Windows 10",
        browser: "Edge 122.0.0",
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    },
    Device {
        os: "Windows 10",
        browser: "Chrome 121.0.0",
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    },
    Device {
        os: "MacOs",
        browser: "Safari 17.2",
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    },
    Device {
        os: "MacOs",
        browser: "Chrome 122.0.0",
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    },
    Device {
        os: "Ios 17",
        browser: "Mobile Safari",
        ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    },
    Device {
        os: "Android 14",
        browser: "Chrome Mobile 121.0.0",
        ua: "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Mobile Safari/537.36",
    },
    Device {
        os: "Windows 10",
        browser: "Rich Client 4.58.0.0",
        ua: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17231; Pro)",
    },
];

/// The user agent of an attacker working from PowerShell.
pub const ATTACKER_UA_POWERSHELL: &str =
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3930";
/// The user agent of an attacker working from a browser.
pub const ATTACKER_UA_BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
/// The user agent of the attacker's mail-reading script.
pub const ATTACKER_UA_SCRIPT: &str = "python-requests/2.31.0";

/// A well-known Microsoft application: app id and display name.
#[derive(Debug, Clone, Copy)]
pub struct FirstParty {
    /// Application (client) id.
    pub app_id: &'static str,
    /// Display name.
    pub name: &'static str,
}

/// Microsoft applications users sign in to.
pub mod fp {
    use super::FirstParty;
    /// Microsoft Graph (resource).
    pub const GRAPH: FirstParty = FirstParty {
        app_id: "00000003-0000-0000-c000-000000000000",
        name: "Microsoft Graph",
    };
    /// Office 365 Exchange Online (resource).
    pub const EXCHANGE: FirstParty = FirstParty {
        app_id: "00000002-0000-0ff1-ce00-000000000000",
        name: "Office 365 Exchange Online",
    };
    /// Office 365 SharePoint Online (resource).
    pub const SHAREPOINT: FirstParty = FirstParty {
        app_id: "00000003-0000-0ff1-ce00-000000000000",
        name: "Office 365 SharePoint Online",
    };
    /// Windows Azure Active Directory (resource).
    pub const AAD_GRAPH: FirstParty = FirstParty {
        app_id: "00000002-0000-0000-c000-000000000000",
        name: "Windows Azure Active Directory",
    };
    /// Windows Azure Service Management API (resource).
    pub const ARM: FirstParty = FirstParty {
        app_id: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        name: "Windows Azure Service Management API",
    };
    /// Azure Portal.
    pub const AZURE_PORTAL: FirstParty = FirstParty {
        app_id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        name: "Azure Portal",
    };
    /// Azure Active Directory PowerShell.
    pub const AAD_POWERSHELL: FirstParty = FirstParty {
        app_id: "1b730954-1685-4b74-9bfd-dac224a7b894",
        name: "Azure Active Directory PowerShell",
    };
    /// Microsoft Graph Command Line Tools.
    pub const GRAPH_CLI: FirstParty = FirstParty {
        app_id: "14d82eec-204b-4c2f-b7e8-296a70dab67e",
        name: "Microsoft Graph Command Line Tools",
    };
    /// Microsoft Office 365 Portal (admin center).
    pub const O365_PORTAL: FirstParty = FirstParty {
        app_id: "00000006-0000-0ff1-ce00-000000000000",
        name: "Microsoft Office 365 Portal",
    };
    /// Microsoft Office.
    pub const OFFICE: FirstParty = FirstParty {
        app_id: "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        name: "Microsoft Office",
    };
    /// Microsoft Teams.
    pub const TEAMS: FirstParty = FirstParty {
        app_id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        name: "Microsoft Teams",
    };
    /// Outlook Mobile.
    pub const OUTLOOK_MOBILE: FirstParty = FirstParty {
        app_id: "27922004-5251-4030-b22d-91ecd9a37ea4",
        name: "Outlook Mobile",
    };
    /// OneDrive SyncEngine.
    pub const ONEDRIVE: FirstParty = FirstParty {
        app_id: "ab9b8c07-8f02-4f72-87fa-80105867a763",
        name: "OneDrive SyncEngine",
    };
    /// One Outlook Web.
    pub const OWA: FirstParty = FirstParty {
        app_id: "9199bf20-a13f-4107-85dc-02114787ef48",
        name: "One Outlook Web",
    };
    /// Microsoft Exchange REST API Based Powershell.
    pub const EXO_POWERSHELL: FirstParty = FirstParty {
        app_id: "fb78d390-0c51-40cd-8e17-fdbfab77341b",
        name: "Microsoft Exchange REST API Based Powershell",
    };
}

/// Apps people sign in to from a computer.
pub const USER_APPS: &[FirstParty] = &[
    fp::OFFICE,
    fp::TEAMS,
    fp::OWA,
    fp::ONEDRIVE,
    fp::O365_PORTAL,
];

/// A directory role: display name, template id, well-known object name.
#[derive(Debug, Clone, Copy)]
pub struct Role {
    /// Display name.
    pub name: &'static str,
    /// Role template id.
    pub template_id: &'static str,
    /// Well-known object name.
    pub wellknown: &'static str,
}

/// Global Administrator.
pub const ROLE_GLOBAL_ADMIN: Role = Role {
    name: "Global Administrator",
    template_id: "62e90394-69f5-4237-9190-012177145e10",
    wellknown: "CompanyAdministrator",
};
/// Helpdesk Administrator.
pub const ROLE_HELPDESK: Role = Role {
    name: "Helpdesk Administrator",
    template_id: "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    wellknown: "HelpdeskAdministrator",
};
/// Application Administrator.
pub const ROLE_APP_ADMIN: Role = Role {
    name: "Application Administrator",
    template_id: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    wellknown: "ApplicationAdministrator",
};

/// An application permission (app role) of a Microsoft API.
#[derive(Debug, Clone, Copy)]
pub struct AppRole {
    /// Permission name (`Mail.Read`).
    pub value: &'static str,
    /// App role id.
    pub id: &'static str,
    /// Admin consent display name.
    pub display: &'static str,
    /// The API that defines it.
    pub resource: FirstParty,
}

/// Graph `Mail.Read` (application).
pub const MAIL_READ: AppRole = AppRole {
    value: "Mail.Read",
    id: "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    display: "Read mail in all mailboxes",
    resource: fp::GRAPH,
};
/// Graph `Mail.ReadWrite` (application).
pub const MAIL_READWRITE: AppRole = AppRole {
    value: "Mail.ReadWrite",
    id: "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    display: "Read and write mail in all mailboxes",
    resource: fp::GRAPH,
};
/// Exchange `full_access_as_app` (application).
pub const FULL_ACCESS_AS_APP: AppRole = AppRole {
    value: "full_access_as_app",
    id: "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
    display: "Use Exchange Web Services with full access to all mailboxes",
    resource: fp::EXCHANGE,
};
/// Graph `User.Read.All` (application).
pub const USER_READ_ALL: AppRole = AppRole {
    value: "User.Read.All",
    id: "df021288-bdef-4463-88db-98f22de89214",
    display: "Read all users' full profiles",
    resource: fp::GRAPH,
};

/// Mail permissions the attacker grants.
pub const MAIL_ROLES: &[AppRole] = &[MAIL_READ, MAIL_READWRITE, FULL_ACCESS_AS_APP];

/// A licence: SKU part number and SKU id.
pub const SKUS: &[(&str, &str)] = &[
    ("ENTERPRISEPACK", "6fd2c87f-b296-42f0-b197-1e91e994b900"),
    ("SPB", "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"),
    (
        "O365_BUSINESS_PREMIUM",
        "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
    ),
    ("SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06"),
];

/// Names of line-of-business applications.
pub const LOB_APPS: &[&str] = &[
    "Payroll Connector",
    "HR Directory Sync",
    "Invoice Automation",
    "CRM Integration",
    "Document Scanner",
    "Ticketing Bridge",
    "Expense Reporter",
    "Contract Archive",
    "Board Portal Sync",
    "Signature Manager",
];

/// Documents on SharePoint and OneDrive.
pub const DOCUMENTS: &[&str] = &[
    "Q3 Forecast.xlsx",
    "Board Minutes.docx",
    "Price List 2024.xlsx",
    "Employee Handbook.pdf",
    "Project Plan.mpp",
    "Customer List.xlsx",
    "Proposal Draft.docx",
    "Site Survey.pdf",
    "Budget.xlsx",
    "Onboarding Checklist.docx",
    "Sales Deck.pptx",
    "Supplier Contract.pdf",
];

/// Groups users are added to.
pub const GROUPS: &[&str] = &[
    "All Staff",
    "Finance",
    "Sales Team",
    "Operations",
    "Management",
    "Project Alpha",
];

/// Mailbox folders.
pub const FOLDERS: &[&str] = &[
    "\\Inbox",
    "\\Sent Items",
    "\\Archive",
    "\\Inbox\\Finance",
    "\\Deleted Items",
];

/// Free-mail domains the attacker forwards to.
pub const DROP_DOMAINS: &[&str] = &[
    "protonmail.com",
    "gmx.com",
    "tutanota.com",
    "mail.com",
    "yandex.com",
];
