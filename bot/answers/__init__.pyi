# The table of contents of bot.answers: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from . import render as render
from . import views as views
from .charts import ChartError as ChartError
from .charts import chart_for_alert as chart_for_alert
from .charts import charts_for_alerts as charts_for_alerts
from .charts import render_chart as render_chart
from .digest import Digest as Digest
from .digest import Reading as Reading
from .digest import build_digest as build_digest
from .edits import stale_note as stale_note
from .evidence import stats_html as stats_html
from .evidence import stats_table as stats_table
from .evidence import sweep_table as sweep_table
from .evidence import variant_json as variant_json
from .evidence import whatif_table as whatif_table
from .noise import noise_from_payload as noise_from_payload
from .noise import noise_text as noise_text
from .noise import record_noise as record_noise
from .render import CAPTION_LIMIT as CAPTION_LIMIT
from .render import MAX_TEXT as MAX_TEXT
from .render import MESSAGE_LIMIT as MESSAGE_LIMIT
from .render import clip as clip
from .render import e as e
from .render import split_message as split_message
from .render import to_plain as to_plain
from .rotation import rotation_html as rotation_html
from .rotation import rotation_json as rotation_json
from .rotation import rotation_text as rotation_text
from .rotationchart import rotation_chart as rotation_chart
from .status import status_report as status_report
from .subscription import route_text as route_text
from .subscription import silences_html as silences_html
from .subscription import subscription_html as subscription_html
from .sweepchart import sweep_chart as sweep_chart
