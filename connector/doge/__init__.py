"""DOGE (doge-datagen 1.0.4) scripts on doge-connect's engine: change the imports, keep the rest.

    from connector.doge import DataOnlineGenerator, SubjectFactory, KafkaAvroSinkFactory

The vectorised engine decides each tick which subjects move and where (probability in percent
per tick); your callbacks and sinks run only for those subjects, in DOGE's order (callback, then
sinks if it returned True). Subjects are kept as columns and handed to your functions as objects
of your own class. Kafka and database (PostgreSQL) sinks commit each tick in one transaction.
What differs from DOGE (in short: keep callbacks to the subject they are given) is listed in
docs/doge-migration.md.
"""

from connector.doge.core import EventSink, Subject, SubjectFactory, Transition
from connector.doge.db import DbSink, DbSinkFactory
from connector.doge.generator import DataOnlineGenerator
from connector.doge.kafka import KafkaAvroSinkFactory, KafkaSink, KafkaSinkFactory
from connector.doge.printing import PrintingSink

__all__ = ["DataOnlineGenerator", "DbSink", "DbSinkFactory", "EventSink", "KafkaAvroSinkFactory",
           "KafkaSink",
           "KafkaSinkFactory", "PrintingSink", "Subject", "SubjectFactory", "Transition"]
