"""The static make-up of the simulated MSP: people, clients, boards, categories, summaries.

Plain tuples only; ``reference.py`` turns them into ConnectWise-shaped dicts and
``generate.py`` draws tickets from them. Everything here is invented (``.example`` domains).
"""

from __future__ import annotations

MSP_NAME = "Velocity IT Solutions"
MSP_DOMAIN = "velocity-it.example"

# (identifier, first name, last name, role). Roles drive who answers and who fixes what.
TECHNICIANS: tuple[tuple[str, str, str, str], ...] = (
    ("Dispatch", "Dana", "Whitaker", "dispatch"),
    ("JSmith", "Jordan", "Smith", "tier1"),
    ("AKhan", "Aisha", "Khan", "tier1"),
    ("MGarcia", "María", "García", "tier1"),
    ("TNguyen", "Tuan", "Nguyen", "noc"),
    ("BOkafor", "Blessing", "Okafor", "tier1"),
    ("LMueller", "Lena", "Müller", "noc"),
    ("RPatel", "Ravi", "Patel", "tier1"),
    ("SCohen", "Sarah", "Cohen", "tier1"),
    ("DRivera", "Diego", "Rivera", "tier2"),
    ("EWilliams", "Emma", "Williams", "tier2"),
    ("KJohansson", "Karl", "Johansson", "tier2"),
    ("COBrien", "Ciarán", "O'Brien", "projects"),
)
INACTIVE_TECHNICIAN = ("POldfield", "Pat", "Oldfield", "tier1")
API_MEMBER = ("DeskboardAPI", "Deskboard", "Integration", "api")

BOARDS: tuple[tuple[int, str, str], ...] = (
    # (id, name, team)
    (1, "Service Desk", "Help Desk"),
    (2, "Escalations", "Tier 2"),
    (3, "Alerts", "NOC"),
    (4, "Projects", "Projects"),
)

# Who is on each board's team (member roles, see TECHNICIANS); the first of the first role
# leads it.
TEAM_ROLES: dict[str, tuple[str, ...]] = {
    "Help Desk": ("dispatch", "tier1"),
    "Tier 2": ("tier2",),
    "NOC": ("noc",),
    "Projects": ("projects",),
}
# ConnectWise security role by member role (SecurityRoleReference: id, name).
SECURITY_ROLES: dict[str, tuple[int, str]] = {
    "dispatch": (4, "Dispatch"),
    "tier1": (3, "Technician"),
    "noc": (3, "Technician"),
    "tier2": (3, "Technician"),
    "projects": (5, "Project Manager"),
    "api": (9, "API Integration"),
}

# (name, escalationStatus, closedStatus, inactive); the same workflow on every board.
STATUSES: tuple[tuple[str, str, bool, bool], ...] = (
    ("New", "NotResponded", False, False),
    ("Assigned", "Responded", False, False),
    ("In Progress", "ResolutionPlan", False, False),
    ("Waiting on Client", "NoEscalation", False, False),
    ("Waiting on Vendor", "NoEscalation", False, False),
    ("Scheduled", "Responded", False, False),
    ("Re-opened", "Responded", False, False),
    (">Resolved", "Resolved", False, False),
    (">Closed", "Resolved", True, False),
    ("zz Pending Parts (old)", "NoEscalation", False, True),
)

# (identifier, name, city, state, weight, agreement level or None). Weight ~ ticket volume.
COMPANIES: tuple[tuple[str, str, str, str, float, str | None], ...] = (
    ("AcmeDental", "Acme Dental Group", "Naperville", "IL", 9.0, "Gold"),
    ("Brightpath", "Brightpath Logistics", "Joliet", "IL", 8.0, "Gold"),
    ("CedarRidgeVet", "Cedar Ridge Veterinary", "Evanston", "IL", 4.0, "Silver"),
    ("Northwind", "Northwind Traders", "Chicago", "IL", 7.5, "Gold"),
    ("Contoso", "Contoso Manufacturing", "Elgin", "IL", 7.0, "Silver"),
    ("LakesideCPA", "Lakeside CPA Partners", "Oak Park", "IL", 5.0, "Silver"),
    ("BakerSons", "Baker & Sons Plumbing", "Aurora", "IL", 2.5, "Bronze"),
    ("SummitOrtho", "Summit Orthopedics", "Schaumburg", "IL", 6.0, "Gold"),
    ("PrairieWindCU", "Prairie Wind Credit Union", "Peoria", "IL", 5.5, "Gold"),
    ("RiverbendLaw", "Riverbend Law Group", "Rockford", "IL", 4.0, "Silver"),
    ("Harborline", "Harborline Freight", "Gary", "IN", 3.5, "Bronze"),
    ("OakStreetRealty", "Oak Street Realty", "Wheaton", "IL", 2.0, "Bronze"),
    ("Bluebonnet", "Bluebonnet Schools Foundation", "Champaign", "IL", 3.0, "Silver"),
    ("MetroTitle", "Metro Title & Escrow", "Skokie", "IL", 2.5, "Bronze"),
    ("Ironclad", "Ironclad Fabrication", "Kenosha", "WI", 3.0, "Silver"),
    ("MapleGrove", "Maple Grove Senior Care", "Downers Grove", "IL", 4.5, "Gold"),
    ("Copperline", "Copperline Architects", "Chicago", "IL", 2.5, "Bronze"),
    ("GreenfieldFM", "Greenfield Family Medicine", "Bloomington", "IL", 4.0, "Silver"),
    ("TriCounty", "Tri-County Insurance Agency", "Waukegan", "IL", 3.0, "Bronze"),
    ("LoneStarBev", "Lone Star Beverage Co.", "Milwaukee", "WI", 2.0, "Bronze"),
    ("PioneerAuto", "Pioneer Auto Group", "Hammond", "IN", 1.0, None),
    ("Westbrook", "Westbrook Community Church", "Lisle", "IL", 0.8, None),
    ("Redwood", "Redwood Analytics", "Chicago", "IL", 3.5, "Silver"),
    ("FalconAviation", "Falcon Aviation Services", "Rockford", "IL", 0.8, None),
    ("VelocityIT", "Velocity IT Solutions (internal)", "Chicago", "IL", 1.5, "Internal"),
)
CATCHALL = ("Catchall", "Catchall - Unknown Contacts", "Chicago", "IL")

CONTACT_FIRST = (
    "Alex", "Brianna", "Carlos", "Deborah", "Ethan", "Fatima", "Greg", "Hannah", "Ivan",
    "Jessica", "Kevin", "Lucía", "Marcus", "Nina", "Owen", "Priya", "Quentin", "Rosa",
    "Sam", "Tanya", "Umar", "Valerie", "Wes", "Ximena", "Yusuf", "Zoë",
)  # fmt: skip
CONTACT_LAST = (
    "Anderson", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Gonzalez", "Hughes",
    "Iverson", "Jackson", "Kowalski", "Larsen", "Moreno", "Novak", "Ortiz", "Park",
    "Reyes", "Schultz", "Thompson", "Walsh",
)  # fmt: skip

PRIORITIES: tuple[tuple[int, str, int, tuple[float, float, float]], ...] = (
    # (id, name, sort, SLA targets in hours: respond, resolution plan, resolve)
    (1, "Priority 1 - Emergency Response", 1, (0.5, 2.0, 4.0)),
    (2, "Priority 2 - Quick Response", 2, (1.0, 4.0, 8.0)),
    (4, "Priority 3 - Normal Response", 3, (4.0, 8.0, 24.0)),
    (8, "Priority 4 - Low", 4, (8.0, 24.0, 72.0)),
    (12, "Priority 5 - Service Request", 5, (24.0, 48.0, 120.0)),
)
# Priority colour by sort (ConnectWise's colour names: Red, Orange, Yellow, Green, Blue...).
PRIORITY_COLORS = {1: "Red", 2: "Orange", 3: "Green", 4: "Blue", 5: "Gray"}
SOURCES: tuple[tuple[int, str], ...] = (
    (1, "Email"),
    (2, "Phone"),
    (3, "Portal"),
    (11, "Automate"),
    (12, "Monitoring"),
    (13, "Internal"),
)
SLAS: tuple[tuple[int, str], ...] = ((1, "Standard SLA"), (2, "Gold SLA"), (6, "No SLA"))
SERVICE_LOCATIONS: tuple[tuple[int, str], ...] = ((1, "On-Site"), (4, "Remote"))
COUNTRY = (1, "United States")
# The custom fields this MSP defined for tickets: every ticket lists them, with a ``value``
# only once one is set (as real responses do). (id, caption, type, entryMethod)
TICKET_CUSTOM_FIELDS: tuple[tuple[int, str, str, str], ...] = (
    (4, "Billing Reviewed", "Checkbox", "EntryField"),
    (9, "Client Reference", "Text", "EntryField"),
    (12, "Follow-up Date", "Date", "EntryField"),
)

# Board name → {(type, subtype): (valid items, summaries)}. "{contact}" and "{device}" are
# filled in per ticket. Only these (type, subtype, item) triples are valid associations.
Category = dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]]
CATEGORIES: dict[str, Category] = {
    "Service Desk": {
        ("Hardware", "Laptop"): (
            ("Repair", "Replace", "Setup"),
            ("Laptop won't power on", "Laptop battery drains in an hour",
             "New starter laptop for {contact}", "Docking station not detecting laptop",
             "Laptop screen flickering"),
        ),
        ("Hardware", "Desktop"): (
            ("Repair", "Replace", "Setup"),
            ("PC very slow since yesterday", "Blue screen on front desk PC",
             "Desktop makes a clicking noise", "Replace PC in conference room"),
        ),
        ("Hardware", "Printer"): (
            ("Repair", "Setup", "Supplies"),
            ("Printer jammed again", "Can't print to the upstairs printer",
             "Scan to email not working", "Toner low on HP LaserJet",
             "Add new printer for accounting"),
        ),
        ("Hardware", "Monitor"): (
            ("Replace", "Setup"),
            ("Second monitor not detected", "Monitor flickering",
             "Need a third monitor for {contact}"),
        ),
        ("Software", "Microsoft 365"): (
            ("Install", "Configure", "How-to"),
            ("Teams keeps crashing", "OneDrive not syncing", "Excel file locked for editing",
             "Install Visio for {contact}", "How do I share my calendar?"),
        ),
        ("Software", "Line of Business App"): (
            ("Install", "Configure", "Error"),
            ("QuickBooks won't open company file", "Dentrix error on startup",
             "Install Adobe Acrobat Pro", "Practice management app very slow"),
        ),
        ("Software", "Antivirus"): (
            ("Configure", "Error"),
            ("Antivirus blocking accounting app", "Defender popup on every login"),
        ),
        ("Network", "Wi-Fi"): (
            ("Connectivity", "Configure"),
            ("Wi-Fi drops in the back office", "Change the guest Wi-Fi password",
             "Can't connect to Wi-Fi after password change"),
        ),
        ("Network", "VPN"): (
            ("Connectivity", "Configure", "Access"),
            ("VPN won't connect from home", "Need VPN access for {contact}",
             "VPN disconnects every 10 minutes"),
        ),
        ("Network", "Internet"): (
            ("Outage", "Slow"),
            ("Internet down at main office", "Internet very slow this morning",
             "Website won't load for anyone"),
        ),
        ("Account", "Password Reset"): (
            ("Access",),
            ("Password reset for {contact}", "Locked out of my account",
             "MFA prompt not arriving on my phone"),
        ),
        ("Account", "New User"): (
            ("Setup",),
            ("New hire starting Monday: {contact}", "Create accounts for new receptionist"),
        ),
        ("Account", "Offboarding"): (
            ("Disable",),
            ("Disable account for departing employee", "Offboard {contact} today at 5pm"),
        ),
        ("Account", "Permissions"): (
            ("Access",),
            ("Need access to the Finance shared drive",
             "Add {contact} to the Sales distribution list"),
        ),
        ("Email", "Outlook"): (
            ("Configure", "Error"),
            ("Outlook keeps asking for password", "Outlook search returns nothing",
             "Shared mailbox missing in Outlook", "Emails stuck in outbox"),
        ),
        ("Email", "Mailbox"): (
            ("Access", "Configure"),
            ("Mailbox full", "Set up out-of-office for {contact}",
             "Need access to the info@ mailbox"),
        ),
        ("Email", "Spam"): (
            ("Report",),
            ("Suspicious email from 'CEO' asking for gift cards",
             "Lots of spam getting through", "Clicked a link in a phishing email"),
        ),
    },
    "Escalations": {
        ("Server", "Windows Server"): (
            ("Error", "Performance", "Patch"),
            ("File server out of disk space", "Domain controller replication errors",
             "Server patching failed overnight", "SQL server using all memory"),
        ),
        ("Server", "Backup"): (
            ("Failure", "Restore"),
            ("Restore deleted folder from last week", "Backup job failing for 3 days",
             "Backup copy job errors"),
        ),
        ("Server", "Hyper-V"): (
            ("Error", "Performance"),
            ("Hyper-V host unresponsive", "VM won't start after host reboot"),
        ),
        ("Network", "Firewall"): (
            ("Configure", "Outage"),
            ("Firewall rule for new vendor VPN", "Site-to-site VPN down",
             "Firewall firmware upgrade"),
        ),
        ("Network", "Switching"): (
            ("Configure", "Outage"),
            ("Switch port flapping in warehouse", "New VLAN for VoIP phones"),
        ),
        ("Security", "Phishing"): (
            ("Investigate",),
            ("User entered credentials on phishing site",
             "Mailbox forwarding rule to external address"),
        ),
        ("Security", "Malware"): (
            ("Investigate", "Remediate"),
            ("Ransom note on shared drive", "Malware detected on reception PC"),
        ),
        ("Security", "MFA"): (
            ("Configure", "Access"),
            ("Enforce MFA for all admins", "Lost phone, need MFA reset"),
        ),
    },
    "Alerts": {
        ("Monitoring", "Disk Space"): (
            ("Warning", "Critical"),
            ("Disk C: below 10% free on {device}", "Disk D: below 5% free on {device}"),
        ),
        ("Monitoring", "Agent Offline"): (
            ("Critical",),
            ("Agent offline: {device}", "{device} not responding to ping"),
        ),
        ("Monitoring", "Backup Failed"): (("Failure",), ("Backup failed: {device}",)),
        ("Monitoring", "Patch Failed"): (
            ("Failure",),
            ("Patch installation failed on {device}",),
        ),
        ("Monitoring", "High CPU"): (
            ("Warning",),
            ("CPU above 95% for 15 minutes on {device}",),
        ),
        ("Security", "AV Detection"): (
            ("Investigate",),
            ("Threat detected: Trojan:Win32/Wacatac on {device}",),
        ),
        ("Security", "Failed Logins"): (
            ("Investigate",),
            ("Multiple failed logins for administrator on {device}",),
        ),
    },
    "Projects": {
        ("Project", "Onboarding"): (
            ("Setup",),
            ("Onboard new client site", "New office build-out: network and phones"),
        ),
        ("Project", "Migration"): (
            ("Configure",),
            ("Migrate file shares to SharePoint", "Exchange to Microsoft 365 migration",
             "Retire Server 2012 file server"),
        ),
        ("Project", "Hardware Refresh"): (
            ("Replace",),
            ("Workstation refresh (15 PCs)", "Replace core switch"),
        ),
    },
}  # fmt: skip

# Summaries that must survive Slack/Teams/HTML rendering: (type, subtype, item, summary).
HOSTILE_SUMMARIES: tuple[tuple[str, str, str, str], ...] = (
    ("Hardware", "Printer", "Repair", "<!channel> printer on fire"),
    ("Hardware", "Desktop", "Repair", "Tom & Jerry's <b>PC</b>"),
    ("Email", "Outlook", "Error", "@here Outlook down?? *urgent* _please_ ~help~"),
    ("Software", "Line of Business App", "Error", "<script>alert('x')</script> | C:\\App\\app.exe"),
    ("Network", "Wi-Fi", "Connectivity", "Café Wi-Fi ☕ – Zoë can't connect"),
    (
        "Hardware",
        "Printer",
        "Repair",
        "Printer on 2nd floor prints blank pages, then jams, then prints blank pages, then jams"
        " again!! :(",
    ),
)

DEVICE_SUFFIXES = ("FS01", "DC01", "SQL01", "HV01", "WS014", "WS022", "LT007", "LT031", "NAS01")

NOTE_TEXTS = {
    "internal": (
        "Called the user, remoted in and reproduced the issue.",
        "Checked event logs; see attached screenshot.",
        "Ordered replacement part from vendor.",
        "Left voicemail, will try again after lunch.",
    ),
    "escalate": (
        "Escalating to Tier 2: needs server access.",
        "Beyond help-desk scope, moving to Escalations.",
    ),
    "customer": (
        "Still happening this morning, please help.",
        "Thanks! That fixed it.",
        "I'm out until Thursday, can we do this then?",
        "Attached a photo of the error.",
    ),
    "resolution": (
        "Applied the fix and verified with the user.",
        "Replaced the faulty part; user confirmed working.",
        "Walked the user through it; all good now.",
        "Reset the settings and tested with the client.",
    ),
    "resolution_alert": (
        "Alert cleared after cleanup; monitoring shows normal.",
        "Freed disk space and rescheduled the job.",
        "Restarted the service; check passes again.",
    ),
}
