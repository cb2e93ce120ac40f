"""A stock oslo.messaging notification listener, as Ceilometer or a tenant tool would run it.

usage: oslo_consumer.py URL EXCHANGE TOPIC COUNT TIMEOUT_S
Prints one JSON line per notification oslo hands to the endpoint, then exits after COUNT of
them (or TIMEOUT_S). Nothing instance-ha specific: if it parses our messages, so does OpenStack.
"""
import json
import sys
import threading

from oslo_config import cfg
import oslo_messaging as om

url, exchange, topic, count, timeout_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
seen = []
done = threading.Event()
# The threading executor runs endpoints concurrently: one line at a time on stdout.
lock = threading.Lock()


class Endpoint(object):
    def _record(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        line = json.dumps({'priority': priority, 'publisher_id': publisher_id, 'event_type': event_type,
                           'payload': payload, 'message_id': metadata.get('message_id'),
                           'timestamp': metadata.get('timestamp')})
        with lock:
            seen.append(1)
            sys.stdout.write(line + '\n')
            sys.stdout.flush()
            if len(seen) >= count:
                done.set()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('INFO', ctxt, publisher_id, event_type, payload, metadata)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('WARN', ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('ERROR', ctxt, publisher_id, event_type, payload, metadata)


conf = cfg.ConfigOpts()
conf([], project='iha-test')
transport = om.get_notification_transport(conf, url=url)
targets = [om.Target(topic=topic, exchange=exchange)]
listener = om.get_notification_listener(transport, targets, [Endpoint()], executor='threading')
listener.start()
done.wait(timeout_s)
listener.stop()
listener.wait()
transport.cleanup()
sys.exit(0 if len(seen) >= count else 3)
