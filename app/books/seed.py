"""`flask seed`: a small demo catalogue, or `--books N` generated books loaded in bulk.

The generated catalogue looks like a real one for search and sort purposes: tens of thousands of
authors, twenty genres, prices from 4.99 to ~90 with a long tail, stock mostly in the tens with
some sold-out titles, popularity (units sold) heavy-tailed, and descriptions of 40 to 90 words
that name people, places and themes. It is deterministic for a given starting point.

Bulk path: rows are generated in batches and sent as multi-row INSERTs (PyMySQL's executemany),
one commit per batch. On MySQL/MariaDB, when the table is empty and the load is large, the
secondary and FULLTEXT indexes are dropped first and rebuilt once at the end (a sorted index
build is many times faster than maintaining eleven indexes row by row).
"""

import random
from datetime import timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import func, insert, select

from app.books.cover_images import demo_cover
from app.books.covers import set_cover_image
from app.books.models import FULLTEXT_INDEX, Book
from app.books.reads import catalogue_changed
from app.books.schemas import isbn13_check_digit
from app.books.search import LIVE
from app.clock import utcnow
from app.extensions import db

BATCH = 5000
REBUILD_INDEXES_FROM = 50_000
DDL_READ_TIMEOUT = 1800  # seconds
GENERATED_ISBN_PREFIX = "9798"  # generated ISBN-13s: 979-8 + an 8-digit serial + check digit

GENRES = (
    "Fiction", "Mystery", "Thriller", "Romance", "Science Fiction", "Fantasy", "Horror", "Historical Fiction",
    "Biography", "History", "Science", "Philosophy", "Poetry", "Travel", "Cookery", "Business",
    "Self-Help", "Children's", "Young Adult", "Graphic Novels",
)  # fmt: skip

# A demo catalogue: well-known public-domain titles (ISBN-13s made with valid check digits).
DEMO_BOOKS = (
    ("Pride and Prejudice", "Jane Austen", "Romance", 1813, "9.99", 25,
     "Elizabeth Bennet trades barbs with the proud Mr Darcy in a comedy of manners about marriage, money and first impressions."),
    ("Emma", "Jane Austen", "Romance", 1815, "8.99", 12,
     "Handsome, clever and rich, Emma Woodhouse plays matchmaker in Highbury, with results she never expected."),
    ("Jane Eyre", "Charlotte Brontë", "Fiction", 1847, "10.50", 18,
     "An orphaned governess at Thornfield Hall falls for its brooding master, who keeps a secret in the attic."),
    ("Wuthering Heights", "Emily Brontë", "Fiction", 1847, "9.50", 9,
     "On the Yorkshire moors, the foundling Heathcliff and Catherine Earnshaw share a love that ruins two families."),
    ("Moby-Dick", "Herman Melville", "Fiction", 1851, "12.99", 7,
     "Ishmael signs on to the whaler Pequod, whose captain Ahab hunts the white whale that took his leg."),
    ("Great Expectations", "Charles Dickens", "Fiction", 1861, "11.25", 14,
     "Pip, a blacksmith's boy, comes into a fortune from an unknown benefactor and learns what a gentleman is."),
    ("A Tale of Two Cities", "Charles Dickens", "Historical Fiction", 1859, "10.99", 0,
     "London and Paris before and during the Revolution: Sydney Carton, Charles Darnay and Madame Defarge's knitting."),
    ("Crime and Punishment", "Fyodor Dostoevsky", "Fiction", 1866, "13.40", 6,
     "Raskolnikov, a poor student in St Petersburg, murders a pawnbroker and is hunted by his own conscience."),
    ("War and Peace", "Leo Tolstoy", "Historical Fiction", 1869, "18.00", 4,
     "Five aristocratic families live through Napoleon's invasion of Russia, from ballrooms to Borodino."),
    ("Anna Karenina", "Leo Tolstoy", "Fiction", 1878, "15.75", 8,
     "A married woman's affair with Count Vronsky set against Levin's search for meaning on his estate."),
    ("The Adventures of Sherlock Holmes", "Arthur Conan Doyle", "Mystery", 1892, "8.49", 30,
     "Twelve cases for the consulting detective of Baker Street and his friend Dr Watson."),
    ("The Hound of the Baskervilles", "Arthur Conan Doyle", "Mystery", 1902, "7.99", 22,
     "A spectral hound haunts Dartmoor, and Holmes must save the last heir of the Baskervilles."),
    ("Dracula", "Bram Stoker", "Horror", 1897, "9.25", 11,
     "Letters and diaries tell how Jonathan Harker, Mina and Van Helsing hunt the Count from Transylvania to Whitby."),
    ("Frankenstein", "Mary Shelley", "Horror", 1818, "8.75", 16,
     "Victor Frankenstein gives life to a creature he then abandons, and both are destroyed by it."),
    ("The Time Machine", "H. G. Wells", "Science Fiction", 1895, "6.99", 19,
     "A Victorian inventor travels to the year 802,701 and finds the Eloi and the Morlocks."),
    ("The War of the Worlds", "H. G. Wells", "Science Fiction", 1898, "7.49", 13,
     "Martian cylinders land in Surrey and tripods lay waste to southern England."),
    ("Twenty Thousand Leagues Under the Seas", "Jules Verne", "Science Fiction", 1870, "9.90", 5,
     "Professor Aronnax is held aboard Captain Nemo's submarine Nautilus on a voyage around the world's oceans."),
    ("The Odyssey", "Homer", "Poetry", 1614, "11.00", 10,
     "Odysseus's ten-year voyage home from Troy to Ithaca, and his revenge on the suitors of Penelope."),
    ("Meditations", "Marcus Aurelius", "Philosophy", 1558, "6.50", 27,
     "Private notes on Stoic discipline by a Roman emperor on campaign."),
    ("The Origin of Species", "Charles Darwin", "Science", 1859, "14.20", 3,
     "The argument for evolution by natural selection, built from pigeons, barnacles and the Galápagos."),
    ("Walden", "Henry David Thoreau", "Philosophy", 1854, "8.20", 9,
     "Two years in a cabin by Walden Pond, and what simple living teaches about society."),
    ("The Count of Monte Cristo", "Alexandre Dumas", "Historical Fiction", 1844, "16.50", 6,
     "Edmond Dantès escapes the Château d'If after fourteen years and returns rich to punish those who betrayed him."),
    ("Alice's Adventures in Wonderland", "Lewis Carroll", "Children's", 1865, "5.99", 40,
     "Alice follows the White Rabbit down the hole into a world of riddles, tea parties and a furious Queen."),
    ("Treasure Island", "Robert Louis Stevenson", "Children's", 1883, "6.75", 21,
     "Jim Hawkins, a treasure map and Long John Silver: pirates, mutiny and buried gold."),
    ("The Wealth of Nations", "Adam Smith", "Business", 1776, "19.99", 2,
     "The division of labour, the invisible hand and the case for free trade."),
)  # fmt: skip


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Margaret Donald Sandra Steven "
    "Ashley Paul Kimberly Andrew Emily Joshua Donna Kenneth Michelle Kevin Carol Brian Amanda George Dorothy Timothy "
    "Melissa Ronald Deborah Edward Stephanie Jason Rebecca Jeffrey Sharon Ryan Laura Jacob Cynthia Gary Kathleen "
    "Nicholas Amy Eric Angela Jonathan Shirley Stephen Anna Larry Brenda Justin Pamela Scott Emma Brandon Nicole "
    "Benjamin Helen Samuel Samantha Gregory Katherine Alexander Christine Frank Debra Patrick Rachel Raymond Carolyn "
    "Jack Janet Dennis Catherine Jerry Maria Tyler Heather Aaron Diane Henry Ruth Adam Julie Douglas Olivia Nathan "
    "Joyce Peter Virginia Zachary Victoria Kyle Kelly Noah Lauren Ethan Christina Jeremy Joan Walter Evelyn Christian "
    "Judith Keith Megan Roger Andrea Terry Cheryl Austin Hannah Sean Jacqueline Gerald Martha Carl Gloria Harold "
    "Teresa Dylan Ann Arthur Sara Lawrence Madison Jordan Frances Jesse Kathryn Bryan Janice Billy Jean Bruce Abigail "
    "Amara Kenji Ingrid Mateo Priya Oskar Leila Tomasz Aiko Rafael Sofia Dmitri Chiara Arjun Freya Nikolai Yuki "
    "Lucia Hamid Astrid Santiago Mei Emil Zara Idris Elena Kofi Marta Luca Noor Anders Imani Pavel Rosa Tariq"
)

SURNAME_HEADS = _words(
    "Ash Black Bram Brock Bur Cal Carr Clay Cold Cross Dal Dun East Elling Fair Fen Fox Gar Glen Gold Gray Hal "
    "Har Hart Hazel Holt Kings Lang Lind Mar Mer Mill Moor North Oak Pem Pen Ral Red Ridge Ros Ry Sand Sel "
    "Shel Stan Stock Stone Sum Thorn Tal War Wes Whit Wick Wil Win Wood Wy"
)
SURNAME_TAILS = _words(
    "bury by combe cott croft dale den don ell field ford gate ham hart hill holm hurst ington land leigh ley "
    "low man mere mond more ney ridge rose shaw stead stone ton well wick wood worth"
)
COMMON_SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
    "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
    "Mitchell Carter Roberts Okafor Nakamura Kowalski Lindqvist Moreau Rossi Novak Haddad Ivanova Schneider Dubois "
    "Fernandes Kim Chen Singh Patel Murphy O'Brien Sullivan MacLeod Byrne Costa Jensen Bianchi Weber Horvat"
)

ADJECTIVES = _words(
    "Silent Hidden Lost Broken Golden Crimson Burning Frozen Hollow Quiet Secret Distant Forgotten Shattered Endless "
    "Winter Summer Midnight Silver Iron Wild Last First Bitter Sweet Dark Bright Restless Sleeping Drowned Paper "
    "Glass Velvet Stolen Borrowed Wandering Falling Rising Little Great Strange Gentle Savage Ancient Modern Invisible "
    "Electric Painted Scarlet Emerald Amber Northern Southern Eastern Western Hungry Patient Reckless Faithful"
)
NOUNS = _words(
    "Garden River House Kingdom Mirror Harbour Orchard Lighthouse Compass Letter Map Island Forest Crown Bridge "
    "Tower Station Library Engine Voyage Promise Season Storm Shadow Memory Witness Daughter Son Widow Stranger "
    "Inheritance Archive Cartographer Clockmaker Apothecary Beekeeper Ferryman Astronomer Gardener Orphan Heiress "
    "Detective Spy Pilgrim Shepherd Sailor Soldier Painter Violinist Tide Ember Frost Lantern Key Door Window Road "
    "Valley Mountain Desert Sea Sky Moon Sun Star Feather Bone Thread Needle Silence Echo Fever Hunger Harvest "
    "Labyrinth Cathedral Carnival Circus Asylum Manor Cottage Vineyard Quarry Mill Canal Border Frontier Empire "
    "Republic Revolution Conspiracy Alibi Verdict Ransom Wager Bargain Debt Legacy Curse Oath Prophecy Requiem"
)
TOPICS = _words(
    "Leadership Negotiation Habits Mindfulness Sleep Nutrition Fermentation Baking Bread Coffee Chess Astronomy "
    "Geology Genetics Evolution Economics Statistics Cryptography Architecture Typography Photography Gardening "
    "Beekeeping Sailing Mountaineering Birdwatching Woodworking Calligraphy Jazz Opera Cinema Philosophy Ethics "
    "Logic Rhetoric Memory Attention Creativity Productivity Investing Marketing Startups Design Cities Railways "
    "Maps Oceans Rivers Forests Volcanoes Weather Climate Energy Robots Computing Mathematics Physics Chemistry"
)
PLACE_HEADS = _words(
    "Alder Bay Black Cale Dor Eld Fal Glen Hol Inver Kil Lan Mor Nor Pel Quen Rav Sal Tor Ul Val Wen Yar Zen"
)
PLACE_TAILS = _words("bridge brook burgh cliff dale field ford gard haven holm mouth port stead thorpe vale wick")
THEMES = _words(
    "grief ambition betrayal forgiveness family loyalty obsession faith identity exile class power love "
    "revenge memory guilt freedom courage friendship war survival inheritance truth madness hope"
)
SETTINGS = (
    "a fishing village", "a crumbling estate", "the last days of an empire", "a city under siege", "a remote island",
    "a travelling circus", "a snowbound monastery", "a border town", "a generation ship", "a drowned city",
    "a Victorian asylum", "the court of a dying king", "a mining town", "a vineyard in the south",
    "a university in decline", "an orbital station", "a river delta", "a Baltic port", "a desert oasis",
    "a mountain railway",
)  # fmt: skip
OPENINGS = (
    "When {name} returns to {place}, {pronoun} finds {setting} changed beyond recognition.",
    "In {setting}, {name} keeps a secret that could destroy everyone {pronoun} loves.",
    "{name} has one summer in {place} to uncover what really happened to {other}.",
    "Nobody in {place} believes {name}, until {other} disappears.",
    "Set in {setting}, this is the story of {name} and {other}, and the {noun} that binds them.",
    "The year the {noun} came to {place}, {name} was twelve years old.",
)
MIDDLES = (
    "As the {noun} draws closer, old alliances fracture and {other} must choose a side.",
    "What begins as a search for a missing {noun} becomes a reckoning with {theme} and {theme2}.",
    "Across three generations, the family's {noun} passes from hand to hand, and with it a debt of {theme}.",
    "Between the {adj} streets of {place} and the ruins of {setting}, nothing is what it seems.",
    "Told in letters, diaries and a single {adj} photograph, the truth emerges piece by piece.",
    "A chance meeting with {other} sets off a chain of events neither of them can stop.",
)
CLOSINGS = (
    "A novel about {theme}, {theme2} and the stories we tell to survive.",
    "{adj2} and unforgettable, it confirms {author} as one of the most distinctive voices of the decade.",
    "Part mystery, part love story, it asks what we owe to the people who came before us.",
    "Richly imagined and quietly devastating, this is a book about {theme} that readers will not soon forget.",
    "With wit and tenderness, {author} explores {theme} in a world on the edge of change.",
)
NONFICTION = (
    "A practical and engaging guide to {topic}, from first principles to the latest research.",
    "Drawing on decades of experience, {author} explains how {topic} shapes everyday life, and how to master it.",
    "Full of case studies, diagrams and stories, this book makes {topic} and {topic2} accessible to everyone.",
    "The definitive history of {topic}: the people, the ideas and the accidents that made it.",
)
NONFICTION_GENRES = {"Biography", "History", "Science", "Philosophy", "Travel", "Cookery", "Business", "Self-Help"}


class CatalogueGenerator:
    """Realistic-looking books, deterministic for a given seed and starting serial."""

    def __init__(self, seed: int = 1729, first_serial: int = 0):
        self.rng = random.Random(seed + first_serial)
        self.serial = first_serial
        rng = self.rng
        surnames = [h + t.lower() if not h.endswith(t[0]) else h + t[1:] for h in SURNAME_HEADS for t in SURNAME_TAILS]
        surnames += COMMON_SURNAMES * 8
        self.surnames = surnames
        self.places = [h + t for h in PLACE_HEADS for t in PLACE_TAILS]
        # ~40k distinct authors; a few are prolific (heavy tail), most wrote one or two books.
        authors = set()
        while len(authors) < 40_000:
            initial = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < 0.25 else ""
            authors.add(f"{rng.choice(FIRST_NAMES)}{initial} {rng.choice(surnames)}")
        self.authors = sorted(authors)
        self.author_weights = [1.0 / (i + 1) ** 0.6 for i in range(len(self.authors))]
        rng.shuffle(self.authors)
        self.genre_weights = [1.0 / (i + 1) ** 0.5 for i in range(len(GENRES))]
        self.now = utcnow()

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(self.surnames)}"

    def _title(self, genre: str) -> str:
        rng = self.rng
        if genre in NONFICTION_GENRES:
            topic = rng.choice(TOPICS)
            return rng.choice(
                (
                    f"The Art of {topic}",
                    f"{topic}: A Short History",
                    f"Understanding {topic}",
                    f"{topic} for Everyone",
                    f"The {rng.choice(ADJECTIVES)} Guide to {topic}",
                    f"A Year of {topic}",
                    f"{topic} and {rng.choice(TOPICS)}",
                )
            )
        adj, noun, noun2 = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(NOUNS)
        return rng.choice(
            (
                f"The {adj} {noun}",
                f"The {noun} of {rng.choice(self.places)}",
                f"{adj} {noun}",
                f"The {noun}'s {noun2}",
                f"A {noun} for {rng.choice(FIRST_NAMES)}",
                f"The {noun} and the {noun2}",
                f"Beyond the {adj} {noun}",
                f"{rng.choice(FIRST_NAMES)} of {rng.choice(self.places)}",
                f"The {adj} {noun} of {rng.choice(self.places)}",
            )
        )

    def _description(self, genre: str, author: str) -> str:
        rng = self.rng
        surname = author.split()[-1]
        if genre in NONFICTION_GENRES:
            parts = [rng.choice(NONFICTION), rng.choice(NONFICTION), rng.choice(CLOSINGS[2:])]
        else:
            parts = [rng.choice(OPENINGS), rng.choice(MIDDLES), rng.choice(MIDDLES), rng.choice(CLOSINGS)]
        values = {
            "name": self._name(),
            "other": self._name(),
            "pronoun": rng.choice(("she", "he", "they")),
            "place": rng.choice(self.places),
            "setting": rng.choice(SETTINGS),
            "noun": rng.choice(NOUNS).lower(),
            "adj": rng.choice(ADJECTIVES).lower(),
            "adj2": rng.choice(("Luminous", "Gripping", "Tender", "Audacious", "Haunting", "Witty", "Expansive")),
            "theme": rng.choice(THEMES),
            "theme2": rng.choice(THEMES),
            "topic": rng.choice(TOPICS).lower(),
            "topic2": rng.choice(TOPICS).lower(),
            "author": surname,
        }
        return " ".join(p.format(**values) for p in parts)

    def _isbn(self):
        self.serial += 1
        if self.rng.random() < 0.03:
            return None  # some older or self-published titles have none
        first12 = f"{GENERATED_ISBN_PREFIX}{self.serial:08d}"
        return first12 + isbn13_check_digit(first12)

    def rows(self, count: int):
        rng = self.rng
        genres = rng.choices(GENRES, weights=self.genre_weights, k=count)
        authors = rng.choices(self.authors, weights=self.author_weights, k=count)
        for genre, author in zip(genres, authors, strict=True):
            price = Decimal(round(rng.lognormvariate(2.6, 0.45), 0)) - Decimal("0.01")
            price = max(price, Decimal("3.99"))
            stock = 0 if rng.random() < 0.08 else int(rng.paretovariate(1.2) * 4)
            added = self.now - timedelta(seconds=rng.randrange(0, 6 * 365 * 86400))
            yield {
                "title": self._title(genre),
                "author": author,
                "genre": genre,
                "description": self._description(genre, author),
                "isbn": self._isbn(),
                "price": price,
                "stock": min(stock, 5000),
                "published_year": rng.randint(1950, self.now.year),
                "is_retired": False,
                "units_sold": int(rng.paretovariate(1.1)) - 1 if rng.random() < 0.85 else 0,
                "created_at": added,
                "updated_at": added,
            }


def _secondary_indexes(bind) -> list[sa.Index]:
    indexes = [ix for ix in Book.__table__.indexes if not ix.unique]
    return [ix for ix in indexes if ix.name != FULLTEXT_INDEX or bind.dialect.name == "mysql"]


def bulk_load(count: int, *, batch: int = BATCH, echo=click.echo) -> int:
    """Insert `count` generated books in batches; returns how many were inserted."""
    session = db.session
    bind = session.connection()
    existing = session.execute(select(func.count()).select_from(Book)).scalar_one()
    last_generated = session.execute(
        select(func.max(Book.isbn)).where(Book.isbn.like(GENERATED_ISBN_PREFIX + "%"))
    ).scalar_one()
    first_serial = int(last_generated[len(GENERATED_ISBN_PREFIX) : 12]) if last_generated else 0
    session.commit()
    rebuild = bind.dialect.name == "mysql" and existing == 0 and count >= REBUILD_INDEXES_FROM
    indexes = _secondary_indexes(bind) if rebuild else []
    if indexes:
        echo(f"Dropping {len(indexes)} secondary indexes for the load; they are rebuilt at the end.")
        _alter_indexes(session, indexes, "DROP INDEX {name}")
    generator = CatalogueGenerator(first_serial=first_serial)
    table = Book.__table__
    done = 0
    try:
        with click.progressbar(length=count, label="Books") as bar:
            while done < count:
                size = min(batch, count - done)
                session.execute(insert(table), list(generator.rows(size)))
                session.commit()
                done += size
                bar.update(size)
    finally:
        if indexes:
            echo("Rebuilding the indexes ...")
            _alter_indexes(session, indexes, None)
    return done


def _alter_indexes(session, indexes, drop_template) -> None:
    """One ALTER TABLE for all (MySQL builds them in one pass over the table)."""
    preparer = session.get_bind().dialect.identifier_preparer
    if drop_template:
        clauses = [drop_template.format(name=preparer.quote(ix.name)) for ix in indexes]
    else:
        clauses = []
        for ix in indexes:
            cols = ", ".join(preparer.quote(c.name) for c in ix.columns)
            kind = "FULLTEXT INDEX" if ix.dialect_options["mysql"]["prefix"] == "FULLTEXT" else "INDEX"
            clauses.append(f"ADD {kind} {preparer.quote(ix.name)} ({cols})")
    # FULLTEXT indexes cannot be added together with others in one statement.
    fulltext = [c for c in clauses if "FULLTEXT" in c]
    rest = [c for c in clauses if "FULLTEXT" not in c]
    session.commit()
    # Building an index over a million rows outlasts the app's read timeout: use a connection of its own.
    options = current_app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    connect_args = {**options.get("connect_args", {}), "read_timeout": DDL_READ_TIMEOUT}
    engine = sa.create_engine(session.get_bind().url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            for group in (rest, fulltext):
                if group:
                    conn.execute(sa.text(f"ALTER TABLE books {', '.join(group)}"))
    finally:
        engine.dispose()


def load_demo_catalogue(echo=click.echo) -> tuple[int, int]:
    """The demo books, each added once (matched by ISBN): (created, kept)."""
    created = kept = 0
    for isbn, (title, author, genre, year, price, stock, description) in zip(demo_isbns(), DEMO_BOOKS, strict=True):
        if db.session.execute(select(Book.id).where(Book.isbn == isbn)).first():
            kept += 1
            continue
        db.session.add(
            Book(
                title=title,
                author=author,
                genre=genre,
                published_year=year,
                price=Decimal(price),
                stock=stock,
                description=description,
                isbn=isbn,
            )
        )
        created += 1
    db.session.commit()
    return created, kept


def demo_isbns() -> list[str]:
    return [f"97800000{n:04d}" + isbn13_check_digit(f"97800000{n:04d}") for n in range(len(DEMO_BOOKS))]


def draw_demo_covers() -> int:
    """A drawn cover for every demo book that has none (an uploaded or earlier one is kept)."""
    rows = db.session.execute(
        select(Book.id, Book.title, Book.author, Book.genre).where(
            Book.isbn.in_(demo_isbns()), Book.cover_digest.is_(None), LIVE
        )
    ).all()
    db.session.commit()
    for book_id, title, author, genre in rows:
        set_cover_image(book_id, demo_cover(title, author, genre))
    return len(rows)


def seed_books(books: int | None = None) -> None:
    """`flask seed`'s catalogue step: the demo catalogue (with drawn covers), or `books` generated ones
    (no covers)."""
    if books is None:
        created, kept = load_demo_catalogue()
        click.echo(f"  demo catalogue: {created} books created, {kept} kept")
        click.echo(f"  demo covers: {draw_demo_covers()} drawn")
    elif books:
        inserted = bulk_load(books)
        click.echo(f"  generated catalogue: {inserted} books inserted")
    catalogue_changed()
