#!/bin/bash
# nginx + php-fpm as one instance: if either dies, the instance is down (as the process
# runtime counts it), so the container exits and compose's restart policy or the
# orchestrator decides what happens next.
set -eu
mkdir -p /run/harness/app /var/log/harness
php-fpm8.2 -R -F -y /etc/harness/php-fpm.conf &
nginx -c /etc/harness/nginx.conf -p /run/harness/app -e /var/log/harness/nginx-error.log &
trap 'kill -TERM $(jobs -p) 2>/dev/null' TERM INT
wait -n
kill -TERM $(jobs -p) 2>/dev/null || true
exit 1
