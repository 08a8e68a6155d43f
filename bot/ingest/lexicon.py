"""Word lists the rules lean on: speech verbs, titles, role nouns, organisation words, names.

Generic English newswriting vocabulary only; nothing here is keyed to one article.
"""

from __future__ import annotations

# Verbs that introduce someone's words ("X said", "said X", "X told reporters").
SPEECH_VERBS = frozenset(
    """
    say says said saying tell tells told telling add adds added adding write writes wrote
    writing written tweet tweets tweeted tweeting post posts posted explain explains explained
    note notes noted state states stated claim claims claimed declare declares declared insist
    insists insisted argue argues argued warn warns warned admit admits admitted acknowledge
    acknowledges acknowledged vow vows vowed ask asks asked reply replies replied answer answers
    answered respond responds responded recall recalls recalled continue continues continued
    announce announces announced concede concedes conceded suggest suggests suggested complain
    complains complained comment comments commented remark remarks remarked observe observes
    observed report reports reported describe describes described call calls called urge urges
    urged predict predicts predicted estimate estimates estimated recount recounts recounted
    quip quips quipped joke jokes joked exclaim exclaims exclaimed shout shouts shouted
    instruct instructs instructed emphasise emphasises emphasised emphasize emphasizes
    emphasized stress stresses stressed promise promises promised pledge pledges pledged
    confirm confirms confirmed deny denies denied charge charges charged contend contends
    contended assert asserts asserted maintain maintains maintained counter counters countered
    agree agrees agreed boast boasts boasted lament laments lamented muse muses mused
    acknowledge added retweet retweets retweeted reads read testify testifies testified
    summarise summarises summarised summarize summarizes summarized recommend recommends
    recommended worry worries worried concluded conclude concludes told spoke speaks
    """.split()
)

# Speech verbs that also make a bare fragment a quotation ("called it 'a disaster'").
FRAMING_VERBS = frozenset(
    """
    calls called calling describes described describing termed labelled labeled branded
    """.split()
)

# Naming verbs: what follows is a nickname or a name, not somebody's words.
NAMING_VERBS = frozenset("dub dubs dubbed nickname nicknamed nicknames titled entitled".split())

# Honorifics before a name, with the gender they state (None: not stated).
HONORIFICS: dict[str, str | None] = {
    "mr": "m",
    "mister": "m",
    "sir": "m",
    "lord": "m",
    "king": "m",
    "prince": "m",
    "father": "m",
    "brother": "m",
    "mrs": "f",
    "ms": "f",
    "miss": "f",
    "madam": "f",
    "dame": "f",
    "lady": "f",
    "queen": "f",
    "princess": "f",
    "sister": "f",
    "dr": None,
    "prof": None,
    "professor": None,
    "rev": None,
    "reverend": None,
}

# Capitalised words that make a title before a name ("Secretary of State Marco Rubio").
TITLE_WORDS = frozenset(
    """
    president vice secretary minister prime deputy foreign finance defence defense interior
    home state field marshal general gen lieutenant lt colonel col major maj captain capt
    sergeant sgt admiral commander officer detective inspector constable chief superintendent
    senator sen representative rep congressman congresswoman governor gov mayor councillor
    councilman councilwoman judge justice chancellor ambassador commissioner director
    attorney speaker premier emperor sheikh pope bishop archbishop cardinal rabbi imam pastor
    coach skipper chairman chairwoman chair ceo founder executive spokesman spokeswoman
    spokesperson supervisor editor correspondent leader head of the
    """.split()
) | frozenset(HONORIFICS)

# Nouns that name a role ("spokesperson Tammy Bruce", "Jeff Rathke, a State Department
# spokesman", "the minister"). Title-only mentions resolve through them.
ROLE_NOUNS = frozenset(
    """
    president vice-president secretary minister premier chancellor spokesman spokeswoman
    spokesperson spokespeople representative senator congressman congresswoman governor mayor
    councillor councilman councilwoman judge justice ambassador envoy diplomat commissioner
    director ceo cfo coo chairman chairwoman chair founder co-founder cofounder owner
    executive manager officer official officials analyst analysts economist professor
    researcher scientist expert experts doctor physician nurse lawyer attorney prosecutor
    adviser advisor aide editor writer reporter correspondent columnist journalist author
    checker fact-checker blogger critic leader chief head commander general marshal captain
    skipper fisherman farmer teacher student resident residents witness witnesses source
    sources supervisor engineer worker workers employee employees member members elder
    chieftain king queen prince princess pope priest bishop rabbi imam pastor coach player
    activist campaigner organiser organizer lawmaker legislator mp politician candidate voter
    voters inspector detective police policeman policewoman sergeant colonel lieutenant
    partner president-elect vice-president-elect founder-ceo producer director-general
    superintendent ranger commentator historian strategist consultant fellow dean provost
    principal mother father son daughter wife husband sister brother parent parents friend
    neighbour neighbor owner operator pilot driver soldier veteran survivor victim patient
    developer programmer designer entrepreneur investor banker broker trader artist musician
    singer actor actress athlete chef surgeon dentist pharmacist therapist psychologist
    psychiatrist paediatrician pediatrician allergist epidemiologist biologist physicist chemist
    architect planner administrator agent whisperer hacker founder president cofounder
    """.split()
)

# Speech verbs that are also everyday nouns ("the charges", "claims", "the state"): they do
# not, alone, make a short fragment in marks a quotation.
NOUNY_VERBS = frozenset(
    """
    say tell add write post posts note notes state states claim claims charge charges counter
    counters report reports call calls comment comments answer answers reply replies read reads
    estimate estimates promise promises remark remarks worry worries continue continues concluded
    conclude concludes agree agrees maintain maintains stress stresses recall recalls
    """.split()
)

# Words that make a capitalised name an organisation ("Department of Conservation").
ORG_WORDS = frozenset(
    """
    department ministry agency office council commission committee authority board bureau
    administration government parliament congress senate assembly court tribunal police
    army navy force forces military university college school institute institution center
    centre foundation trust fund association society union federation league party
    company co corp corporation inc ltd llc plc group holdings bank partners capital
    securities brokerage research labs laboratory network news times post journal herald
    telegraph tribune gazette magazine press media channel radio tv television broadcasting
    service services organisation organization agency hospital clinic church mission embassy
    consulate coalition alliance campaign movement project commission cabinet unit division
    website newspaper reuters associated
    """.split()
)

# Lower-case heads of an unnamed speaker or body ("a Singapore-based spokesman for Google").
UNNAMED_HEADS = ROLE_NOUNS | frozenset(
    """
    person man woman people someone source sources insider insiders observer observers
    statement report study analysis survey paper spokesperson family relative relatives
    neighbour neighbours official officials poster user users commenter customer customers
    shopper shoppers fan fans guest guests visitor visitors local locals villager villagers
    """.split()
)

# Bodies that speak through documents ("the report states", "the statement said").
DOCUMENT_NOUNS = frozenset(
    "report study statement survey analysis paper memo letter filing document release".split()
)

PRONOUNS: dict[str, str] = {
    "he": "m",
    "she": "f",
    "they": "p",
    "it": "n",
    "we": "p",
}
POSSESSIVE_PRONOUNS: dict[str, str] = {"his": "m", "him": "m", "her": "f", "hers": "f"}

# Capitalised words that start sentences or stand alone but are not names.
NOT_NAMES = frozenset(
    """
    a an the this that these those there here it its it's he she they we i you his her their
    our my your but and or so yet if when while after before since as at in on of for from
    by with without to into onto over under about above below between among during despite
    though although because however meanwhile also still then now today tomorrow yesterday
    one two three four five six seven eight nine ten some many most more much few several all
    any each every no not none nor what which who whom whose why how where whether
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december mr mrs ms dr
    earlier later last next first second third analysis update related read photo
    image video watch listen advertisement getty reuters ap afp
    well yes oh like just even only both either neither such other another same
    """.split()
)

# Name particles that may sit inside a name ("Ursula von der Leyen", "Osama bin Laden").
NAME_PARTICLES = frozenset(
    "de del della der di da das do dos du van von den la le al el bin ibn ben st y".split()
)

# Common given names with the gender they usually carry (a cue, outweighed by honorifics and
# pronouns). A generic list of frequent names, not names from any particular story.
MALE_NAMES = frozenset(
    """
    aaron abdul abdullah abraham adam adrian ahmed ahmad alan albert alex alexander alexei alfred
    ali allen alvin amir andre andrea andreas andrew andy angelo anthony antonio arthur ashok
    austin barry ben benjamin bernard bill billy bob bobby boris brad bradley brandon brendan
    brett brian bruce bruno bryan carl carlos chad charles charlie chris christian christopher
    clarence claude clifford colin craig curtis dale dan daniel danny darren dave david dean
    dennis derek diego dmitry dominic don donald doug douglas duncan dylan earl ed eddie edgar
    edward edwin eli elijah emmanuel eric erik ernest ethan eugene evan felix fernando francis
    francisco frank franklin fred frederick gabriel gareth gary gavin geoffrey george gerald
    gilbert glen glenn gordon graham grant greg gregory guy hamid hans harold harry hassan
    hector henry herbert howard hugh hugo ian isaac ivan jack jacob jake james jamal jared
    jason javier jay jean jeff jeffrey jeremy jerome jerry jesse jim jimmy joe joel johan john
    johnny jon jonathan jorge jose joseph josh joshua juan julian justin karl keith ken kenneth
    kevin khalid kim kirk kyle lance larry lars lawrence lee leo leon leonard lewis liam lloyd
    louis lucas luis luke malcolm manuel marc marco marcus mario mark martin marvin mason matt
    matthew max michael miguel mike mikhail mitchell mohammed mohammad muhammad nathan neil
    nicholas nick nigel noah norman oliver omar oscar owen pablo patrick paul pedro pete peter
    phil philip phillip pierre rafael rahul raj ralph ramon randy ray raymond reginald richard
    rick ricky rob robert roberto rod rodney roger roland ron ronald ross roy ruben russell
    ryan salman sam samuel scott sean sebastian sergei sergio seth shane shawn simon stanley
    stefan stephen steve steven stuart sunil tariq ted terry theodore thomas tim timothy tobias
    todd tom tommy tony travis trevor troy tyler victor vijay vincent vladimir walter warren
    wayne wesley will william willie xavier yusuf zachary jim ivan igor yuri omar hamza imran
    nawaz shehbaz asif sanjay amit arjun rohan vikram narendra rajesh deepak kofi kwame chen
    wei hiroshi takeshi kenji jun min jae hyun
    """.split()
)
FEMALE_NAMES = frozenset(
    """
    abigail ada adriana agnes aisha alexandra alice alicia alison allison amanda amber amelia
    amy ana andrea angela angelina anita ann anna anne annie antonia april ashley audrey
    barbara beatrice becky belinda beth bethany betty beverly bonnie brenda brianna bridget
    brittany camila carla carmen carol caroline carolyn catherine cecilia charlotte chelsea
    cheryl chloe christina christine cindy claire clara claudia colleen connie courtney crystal
    cynthia daisy dana danielle daphne deborah debra denise diana diane donna doris dorothy
    edith eileen elaine eleanor elena elizabeth ella ellen emily emma erica erin esther eva
    evelyn fatima fiona florence frances gabriela gail gemma georgia gillian gina gloria grace
    hannah harriet hazel heather heidi helen holly ingrid irene isabel isabella jackie jacqueline
    jane janet janice jasmine jean jennifer jenny jessica jill joan joanna jocelyn josephine
    joy joyce judith judy julia julie june karen kate katherine kathleen kathryn kathy katie
    kay kelly kimberly kristen laura lauren leah leila lily linda lisa lois lori louise lucy
    lydia lynn madeline maggie malala margaret maria marie marilyn marion martha mary maureen
    megan melanie melissa mia michelle mildred miranda molly monica nadia nancy naomi natalie
    natasha nicole nina nora olga olivia pamela patricia paula pauline peggy penelope phyllis
    priya rachel rebecca regina rita roberta rose rosemary ruth sally samantha sandra sara
    sarah sharon sheila shirley sofia sonia sophia sophie stephanie susan suzanne sylvia tamara
    tammy tanya teresa theresa tiffany tina tracy ursula valerie vanessa veronica victoria
    virginia wanda wendy yolanda yvonne zoe jacinda theresa angela nicola kamala hillary
    condoleezza madeleine benazir maryam indira sonia priyanka aung mei ling yuki
    akiko sakura
    """.split()
)
