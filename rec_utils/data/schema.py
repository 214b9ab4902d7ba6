"""Column names and conventions shared by every module and notebook of the course.

One schema for interactions (see STYLE.md, "One data schema"): ``user_id, item_id,
rating, timestamp``. Import the names from here instead of typing the strings.
"""

USER = "user_id"
ITEM = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"
INTERACTION_COLUMNS = (USER, ITEM, RATING, TIMESTAMP)

TITLE = "title"
YEAR = "year"
GENRES = "genres"  # pipe-separated, e.g. "Action|Sci-Fi", as in MovieLens' own CSV files
GENRE_SEPARATOR = "|"

TAG = "tag"  # a user's free-text tag on an item (MovieLens' tags.csv)

AGE = "age"
GENDER = "gender"
OCCUPATION = "occupation"
ZIP = "zip"
DEMOGRAPHICS = (AGE, GENDER, OCCUPATION, ZIP)

# Compact dtypes keep a notebook with TensorFlow under Binder's 1 GB. A data set without
# timestamps has no ``timestamp`` column (see ``Dataset.capabilities``).
DTYPES = {USER: "int32", ITEM: "int32", RATING: "float32", TIMESTAMP: "int64"}

# The 19 genre flags of ML-100K's u.item, in file order ("unknown" is flag 0).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
