"""Static reference data for the synthetic demo brand: places, names, products, content codes.

Pure constants, no Django: the generator reads them, tests and later seeding
steps (content assets, demo segments) can import them to stay consistent.
"""

from __future__ import annotations

# (code, name, 2020-census population in millions, ZIP3 low, ZIP3 high, cities)
STATES: tuple[tuple[str, str, float, int, int, tuple[str, ...]], ...] = (
    ("AL", "Alabama", 5.0, 350, 369, ("Birmingham", "Huntsville", "Mobile")),
    ("AK", "Alaska", 0.7, 995, 999, ("Anchorage", "Fairbanks")),
    ("AZ", "Arizona", 7.2, 850, 865, ("Phoenix", "Tucson", "Mesa", "Scottsdale")),
    ("AR", "Arkansas", 3.0, 716, 729, ("Little Rock", "Fayetteville")),
    (
        "CA",
        "California",
        39.5,
        900,
        961,
        ("Los Angeles", "San Diego", "San Jose", "San Francisco", "Sacramento", "Fresno"),
    ),
    ("CO", "Colorado", 5.8, 800, 816, ("Denver", "Colorado Springs", "Aurora")),
    ("CT", "Connecticut", 3.6, 60, 69, ("Hartford", "New Haven", "Stamford")),
    ("DE", "Delaware", 1.0, 197, 199, ("Wilmington", "Dover")),
    ("DC", "District of Columbia", 0.7, 200, 205, ("Washington",)),
    ("FL", "Florida", 21.5, 320, 349, ("Miami", "Tampa", "Orlando", "Jacksonville", "Gainesville")),
    ("GA", "Georgia", 10.7, 300, 319, ("Atlanta", "Savannah", "Augusta", "Macon")),
    ("HI", "Hawaii", 1.5, 967, 968, ("Honolulu",)),
    ("ID", "Idaho", 1.8, 832, 838, ("Boise",)),
    ("IL", "Illinois", 12.8, 600, 629, ("Chicago", "Springfield", "Peoria", "Evanston")),
    ("IN", "Indiana", 6.8, 460, 479, ("Indianapolis", "Fort Wayne", "Bloomington")),
    ("IA", "Iowa", 3.2, 500, 528, ("Des Moines", "Iowa City", "Cedar Rapids")),
    ("KS", "Kansas", 2.9, 660, 679, ("Wichita", "Kansas City", "Topeka")),
    ("KY", "Kentucky", 4.5, 400, 427, ("Louisville", "Lexington")),
    ("LA", "Louisiana", 4.7, 700, 714, ("New Orleans", "Baton Rouge", "Shreveport")),
    ("ME", "Maine", 1.4, 39, 49, ("Portland", "Bangor")),
    ("MD", "Maryland", 6.2, 206, 219, ("Baltimore", "Bethesda", "Annapolis")),
    ("MA", "Massachusetts", 7.0, 10, 27, ("Boston", "Worcester", "Springfield", "Cambridge")),
    ("MI", "Michigan", 10.1, 480, 499, ("Detroit", "Ann Arbor", "Grand Rapids", "Lansing")),
    ("MN", "Minnesota", 5.7, 550, 567, ("Minneapolis", "Saint Paul", "Rochester", "Duluth")),
    ("MS", "Mississippi", 3.0, 386, 397, ("Jackson", "Gulfport")),
    ("MO", "Missouri", 6.2, 630, 658, ("St. Louis", "Kansas City", "Columbia")),
    ("MT", "Montana", 1.1, 590, 599, ("Billings", "Missoula")),
    ("NE", "Nebraska", 2.0, 680, 693, ("Omaha", "Lincoln")),
    ("NV", "Nevada", 3.1, 889, 898, ("Las Vegas", "Reno")),
    ("NH", "New Hampshire", 1.4, 30, 38, ("Manchester", "Lebanon", "Nashua")),
    ("NJ", "New Jersey", 9.3, 70, 89, ("Newark", "Hackensack", "New Brunswick", "Camden")),
    ("NM", "New Mexico", 2.1, 870, 884, ("Albuquerque", "Santa Fe")),
    ("NY", "New York", 20.2, 100, 149, ("New York", "Buffalo", "Rochester", "Albany", "Bronx")),
    ("NC", "North Carolina", 10.4, 270, 289, ("Charlotte", "Raleigh", "Durham", "Greensboro")),
    ("ND", "North Dakota", 0.8, 580, 588, ("Fargo", "Bismarck")),
    ("OH", "Ohio", 11.8, 430, 458, ("Columbus", "Cleveland", "Cincinnati", "Dayton", "Toledo")),
    ("OK", "Oklahoma", 4.0, 730, 749, ("Oklahoma City", "Tulsa")),
    ("OR", "Oregon", 4.2, 970, 979, ("Portland", "Eugene", "Salem")),
    ("PA", "Pennsylvania", 13.0, 150, 196, ("Philadelphia", "Pittsburgh", "Hershey", "Allentown")),
    ("RI", "Rhode Island", 1.1, 28, 29, ("Providence",)),
    ("SC", "South Carolina", 5.1, 290, 299, ("Charleston", "Columbia", "Greenville")),
    ("SD", "South Dakota", 0.9, 570, 577, ("Sioux Falls", "Rapid City")),
    ("TN", "Tennessee", 6.9, 370, 385, ("Nashville", "Memphis", "Knoxville", "Chattanooga")),
    (
        "TX",
        "Texas",
        29.1,
        750,
        799,
        ("Houston", "Dallas", "San Antonio", "Austin", "Fort Worth", "El Paso"),
    ),
    ("UT", "Utah", 3.3, 840, 847, ("Salt Lake City", "Provo")),
    ("VT", "Vermont", 0.6, 50, 59, ("Burlington",)),
    ("VA", "Virginia", 8.6, 220, 246, ("Richmond", "Norfolk", "Charlottesville", "Arlington")),
    ("WA", "Washington", 7.7, 980, 994, ("Seattle", "Spokane", "Tacoma")),
    ("WV", "West Virginia", 1.8, 247, 268, ("Charleston", "Morgantown")),
    ("WI", "Wisconsin", 5.9, 530, 549, ("Milwaukee", "Madison", "Green Bay")),
    ("WY", "Wyoming", 0.6, 820, 831, ("Cheyenne", "Casper")),
)

# Sales territories: (code, name, states it covers). A state split between two
# territories lists both; the generator picks one of them at random per record.
TERRITORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("NE-BOS", "New England (Boston)", ("MA", "NH", "ME", "VT", "RI", "CT")),
    ("NE-NYC", "New York Metro", ("NY", "NJ")),
    ("NE-PHL", "Philadelphia", ("PA", "DE")),
    ("NE-DCA", "Capital (Washington)", ("DC", "MD", "VA", "WV")),
    ("SE-ATL", "Atlanta", ("GA", "SC")),
    ("SE-CLT", "Carolinas (Charlotte)", ("NC",)),
    ("SE-MIA", "South Florida (Miami)", ("FL",)),
    ("SE-TPA", "Central Florida (Tampa)", ("FL",)),
    ("SE-NSH", "Mid-South (Nashville)", ("TN", "KY", "AL", "MS")),
    ("MW-CHI", "Chicago", ("IL", "WI")),
    ("MW-DET", "Great Lakes (Detroit)", ("MI", "IN")),
    ("MW-CMH", "Ohio Valley (Columbus)", ("OH",)),
    ("MW-MSP", "Upper Midwest (Minneapolis)", ("MN", "IA", "ND", "SD", "NE")),
    ("MW-STL", "Heartland (St. Louis)", ("MO", "KS", "AR")),
    ("SW-DAL", "North Texas (Dallas)", ("TX", "OK")),
    ("SW-HOU", "Gulf Coast (Houston)", ("TX", "LA")),
    ("SW-PHX", "Desert Southwest (Phoenix)", ("AZ", "NM", "NV", "UT")),
    ("W-DEN", "Mountain (Denver)", ("CO", "WY", "MT", "ID")),
    ("W-LAX", "Southern California (Los Angeles)", ("CA", "HI")),
    ("W-SFO", "Northern California (San Francisco)", ("CA",)),
    ("W-SEA", "Pacific Northwest (Seattle)", ("WA", "OR", "AK")),
)

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
    "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily", "Andrew", "Michelle",
    "Joshua", "Amanda", "Kevin", "Melissa", "Brian", "Stephanie", "Priya", "Rebecca",
    "Wei", "Laura", "Raj", "Rachel", "Carlos", "Maria", "Jose", "Ana", "Ahmed", "Fatima",
    "Hiroshi", "Mei", "Olga", "Samuel", "Grace", "Benjamin", "Hannah", "Nathan", "Olivia",
    "Aisha", "Omar", "Sofia", "Luis", "Elena", "Vikram", "Anjali", "Kwame", "Chloe",
    "Ethan", "Naomi", "Isaac", "Leah", "Gabriel", "Julia", "Diego", "Camila", "Min-jun",
    "Ji-woo", "Tariq", "Noor",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
    "Roberts", "Patel", "Shah", "Kim", "Park", "Chen", "Wang", "Li", "Zhang", "Singh",
    "Kumar", "Gupta", "Cohen", "Levy", "O'Brien", "Murphy", "Sullivan", "Kelly",
    "Rossi", "Russo", "Novak", "Kowalski", "Ivanov", "Haddad", "Khan", "Ali", "Okafor",
    "Mensah", "Tanaka", "Suzuki", "Yamamoto", "Schmidt", "Mueller", "Fischer", "Weber",
    "Becker", "Hoffman", "Bernstein", "Goldberg", "Friedman", "Morales", "Ortiz",
    "Gutierrez", "Chavez", "Ramos", "Reyes", "Cruz", "Diaz", "Vargas", "Castillo",
    "Mendoza", "Bailey", "Cooper", "Reed", "Cook", "Morgan", "Bell", "Ward", "Brooks",
    "Price", "Bennett", "Wood", "Barnes", "Ross", "Henderson", "Coleman", "Jenkins",
    "Perry", "Powell", "Long", "Foster",
)  # fmt: skip

SAINTS: tuple[str, ...] = (
    "St. Mary's", "St. Joseph's", "St. Luke's", "St. Vincent's", "Mercy", "Good Samaritan",
    "Providence", "Sacred Heart", "Holy Cross", "Baptist", "Methodist", "Presbyterian",
)  # fmt: skip

PHARMACY_CHAINS: tuple[str, ...] = (
    "CareCorner",
    "Main Street",
    "WellPath",
    "HealthMart Plus",
    "Neighborhood Rx",
    "ValueDrug",
)
SPECIALTY_PHARMACIES: tuple[str, ...] = (
    "Apex",
    "Meridian",
    "Keystone",
    "Summit",
    "Beacon",
    "Pinnacle",
    "Harbor",
    "Evergreen",
)
PAYER_WORDS: tuple[str, ...] = (
    "BlueRiver",
    "Liberty",
    "Unity",
    "Heritage",
    "Frontier",
    "Cardinal",
    "Keystone",
    "Sunrise",
)
CLINIC_KINDS: tuple[str, ...] = (
    "Heart & Vascular Clinic",
    "Diabetes & Endocrine Center",
    "Internal Medicine Associates",
    "Kidney Care Clinic",
    "Primary Care Partners",
    "Cardiometabolic Clinic",
    "Family Health Center",
    "Lipid Clinic",
)
PRACTICE_KINDS: tuple[str, ...] = (
    "Family Practice",
    "Cardiology",
    "Internal Medicine",
    "Endocrinology",
    "Primary Care",
    "Medical Group",
)

# Products with monthly rx facts: our cardiometabolic portfolio and two competitors.
OWN_PRODUCTS: tuple[str, ...] = ("CARDIOZEN", "GLUCOVANT", "RENALIX")
COMPETITOR_PRODUCTS: tuple[str, ...] = ("VASTORIN", "METAFORA")
PRODUCTS: tuple[str, ...] = OWN_PRODUCTS + COMPETITOR_PRODUCTS

# Content codes interactions refer to (an interaction's asset is a free code;
# a later seeding step may register some of them in the content library).
# (code, title, topic, therapy area)
DEMO_ASSET_CODES: tuple[tuple[str, str, str, str], ...] = (
    ("US-CARD-0001", "CARDIOZEN mechanism of action", "mechanism_of_action", "cardiology"),
    ("US-CARD-0002", "CARDIOZEN outcomes trial summary", "efficacy", "cardiology"),
    ("US-CARD-0003", "CARDIOZEN safety profile", "safety", "cardiology"),
    ("US-CARD-0004", "CARDIOZEN dosing guide", "dosing", "cardiology"),
    ("US-CARD-0005", "Identifying patients with residual risk", "patient_selection", "cardiology"),
    ("US-CARD-0006", "CARDIOZEN coverage and copay", "access", "cardiology"),
    ("US-CARD-0007", "Heart-failure disease education", "disease_education", "cardiology"),
    ("US-CARD-0008", "CARDIOZEN patient support program", "patient_support", "cardiology"),
    ("US-META-0001", "GLUCOVANT mechanism of action", "mechanism_of_action", "endocrinology"),
    ("US-META-0002", "GLUCOVANT HbA1c results", "efficacy", "endocrinology"),
    ("US-META-0003", "GLUCOVANT titration guide", "dosing", "endocrinology"),
    ("US-META-0004", "GLUCOVANT formulary access", "access", "endocrinology"),
    ("US-META-0005", "Type 2 diabetes and CV risk", "disease_education", "endocrinology"),
    ("US-RENA-0001", "RENALIX kidney outcomes", "efficacy", "nephrology"),
    ("US-RENA-0002", "RENALIX safety and monitoring", "safety", "nephrology"),
    ("US-RENA-0003", "CKD staging and patient selection", "patient_selection", "nephrology"),
    ("US-RENA-0004", "RENALIX patient support and savings", "patient_support", "nephrology"),
)

# Congress days (month, day) each year: ACC, ADA, ESC, ASN Kidney Week, AHA.
CONGRESS_DAYS: tuple[tuple[int, int], ...] = ((4, 6), (6, 21), (8, 31), (10, 24), (11, 11))
