"""Named codes: the small integers the kernels use for modes, regions, kinds, statuses, flags and outcomes.

Every code the engine compares against is named here, once; no other module writes a literal code.
The names (tuples) are what scenario files and results use; a code is the index of its name.
"""
from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------------------- travel modes
MODES = ("foot", "bus", "train", "truck", "boat", "air")
FOOT, BUS, TRAIN, TRUCK, BOAT, AIR = range(len(MODES))
CONTENTION_MODES = ("train", "bus", "truck", "foot")   # the modes "contention" can act on

# ----------------------------------------------------------------------------- regions of legs
REGIONS = ("south_america", "central_america", "guatemala_border", "south_mexico", "north_mexico", "air")
SOUTH_AMERICA, CENTRAL_AMERICA, GUATEMALA_BORDER, SOUTH_MEXICO, NORTH_MEXICO, AIR_REGION = range(len(REGIONS))

# ----------------------------------------------------------------------------- places and crossings
PLACE_KINDS = ("origin", "transit", "checkpoint", "border_city", "sector", "sink")
ORIGIN, TRANSIT, CHECKPOINT, BORDER_CITY, SECTOR_SITE, SINK_PLACE = range(len(PLACE_KINDS))
STOP_KINDS = (TRANSIT, CHECKPOINT, BORDER_CITY)        # places where people on the way stop (stranded if in Mexico)

CROSSING_KINDS = ("port", "rail_bridge", "between_ports")
PORT, RAIL_BRIDGE, BETWEEN_PORTS = range(len(CROSSING_KINDS))

# ----------------------------------------------------------------------------- US legal regimes
REGIMES = ("title42", "title8", "title8_restricted", "suspension")
TITLE42, TITLE8, TITLE8_RESTRICTED, SUSPENSION = range(len(REGIMES))

# ----------------------------------------------------------------------------- series counted on legs
COUNTS_AS = ("darien_crossings",)                     # leg.counts_as values that are recorded series
COUNT_DARIEN = COUNTS_AS.index("darien_crossings")
NOT_COUNTED = -1

# ----------------------------------------------------------------------------- agent statuses
# Everything from FIRST_SINK on is final: the agent leaves the store tonight (counted in its books).
STATUS_NAMES = (
    "in_transit", "waiting_border", "crossing", "detained_mexico", "us_custody", "ice_detention",
    "regrouping", "released_us", "evaded", "removed", "gave_up", "paroled",
)
(IN_TRANSIT, WAITING_BORDER, CROSSING, DETAINED_MEXICO, US_CUSTODY, ICE_DETENTION, REGROUPING,
 RELEASED_US, EVADED, REMOVED, GAVE_UP, PAROLED) = range(len(STATUS_NAMES))
FIRST_SINK = RELEASED_US
N_STATUS = len(STATUS_NAMES)
N_SINK = N_STATUS - FIRST_SINK

# ----------------------------------------------------------------------------- agent flag bits
F_SEEKER = np.uint8(1)     # waits for a CBP One appointment
F_APPT = np.uint8(2)       # holds an appointment (crossing at a port today)
F_INSPECT = np.uint8(4)    # started an inspected leg today
F_DECIDED = np.uint8(8)    # has chosen between waiting for an appointment and crossing
F_EXPELLED = np.uint8(16)  # returned to Mexico today by a Title 42 expulsion (decides whether to retry at its rate)

# ----------------------------------------------------------------------------- agent field sentinels
NO_LEG = -1                # ag.leg when not on a leg
NO_CROSSING = -1           # ag.crossing when not crossing into the US today
NO_SECTOR = -1             # ag.sector when not in Border Patrol custody
DECIDE_RETRY = -1          # ag.timer of someone returned today: `retries` decides later today
NO_GROUP = 0               # ag.group of someone travelling alone; caravans are 1, 2, ...
CARAVAN_COHORT = 1000      # random-number cohort of caravan g is CARAVAN_COHORT + g (nationalities are below)

# ----------------------------------------------------------------------------- outcomes of US processing
OUTCOMES = ("release", "return_mexico", "ice_detention", "removed_land", "expelled")
OUT_RELEASE, OUT_RETURN_MX, OUT_ICE, OUT_REMOVED_LAND, OUT_EXPELLED = range(len(OUTCOMES))

# ----------------------------------------------------------------------------- route-table variants
# A traveller's variant of today's route table: bits add up (0..7).
V_NEEDS_VISA = 1           # needs a Mexican visa: visa-gated flights closed
V_INSPECTED = 2            # inspected by Mexico (not Mexican): detection risk weighs on the route
V_CARAVAN = 4              # in a caravan: keeps to foot legs where one leads on
N_VARIANTS = 8

# ----------------------------------------------------------------------------- sides of the talks
SIDES = ("US", "Mexico", "pathways", "push factors", "transit countries", "inputs")
