#!/usr/bin/env bash
# store: s3 — 5,000 downloads from nginx go to a bucket (moto_server, every
# signature checked), read back by an independent client (boto3):
#   - every object is there with the SHA-256 of the file it came from;
#   - default keys are content-addressed (sha256/ab/cd/<sha256>), so 500
#     duplicate downloads (same bytes, other URLs) add no object;
#   - templated keys (t/{{job}}/{{seq}}/{{filename}}) with their own content
#     type, the others with the response's;
#   - the result rows say s3://bucket/key, size, SHA-256 and content type;
#   - a local file goes up with upload_s3 (and is deleted with upload_s3_delete).
. "$(dirname "$0")/s3.bash"

t_db
t_nginx
s3_moto auth
s3py bucket shoal
python3 - "$T_DIR/www" <<'PY'
import os, random, sys
random.seed(15)
www = sys.argv[1]
os.makedirs(www + "/f"); os.makedirs(www + "/dup")
for i in range(4000):
    data = os.urandom(random.randint(100, 3000))
    open("%s/f/%04d.bin" % (www, i), "wb").write(data)
    if i < 500:
        open("%s/dup/%04d.bin" % (www, i), "wb").write(data)
PY
echo "a file made on the worker" > "$T_DIR/local.txt"
t_broker
mkdir -p "$T_DIR/spool"
s3_worker w1 --slots 32 --s3-spool-dir "$T_DIR/spool"
s3_worker w2 --slots 32 --s3-spool-dir "$T_DIR/spool"
t_wait_workers 2

N="http://127.0.0.1:$NGINX_PORT"
{
    for i in $(seq -f %04g 0 3999); do echo "{\"url\": \"$N/f/$i.bin\"}"; done
    for i in $(seq -f %04g 0 499); do echo "{\"url\": \"$N/dup/$i.bin\"}"; done
    for i in $(seq -f %04g 0 499); do
        echo "{\"url\": \"$N/f/$i.bin\", \"s3_key\": \"t/{{job}}/{{seq}}/{{filename}}\", \"s3_content_type\": \"application/x-shoal-test\"}"
    done
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name s3-store --defaults '{"store": "s3", "s3_bucket": "shoal"}' -q)
t_wait_done "$job" 400
t_assert_one_result_each "$job" 5000
t_assert_eq "all stored" 5000 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok' AND body_url IS NOT NULL")"
shoal results "$job" > "$T_DIR/results.jsonl"
s3py objects shoal > "$T_DIR/objects.txt"

python3 - "$T_DIR/www" "$T_DIR/results.jsonl" "$T_DIR/objects.txt" "$job" <<'PY' || t_fail "results and objects disagree (above)"
import hashlib, json, sys
www, results, objects, job = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def sha(path): return hashlib.sha256(open(path, "rb").read()).hexdigest()
files = {"f/%04d.bin" % i: sha("%s/f/%04d.bin" % (www, i)) for i in range(4000)}
files.update({"dup/%04d.bin" % i: files["f/%04d.bin" % i] for i in range(500)})
objs = {}
for line in open(objects):
    key, size, digest, ctype, etag = line.split()
    objs[key] = (int(size), digest, ctype)
bad = []
for line in open(results):
    r = json.loads(line)
    seq, h = r["seq"], r["http"]
    path = "/".join(h["final_url"].split("/")[-2:])
    want = files[path]
    if h["sha256"] != want:
        bad.append("seq %d: sha256 %s, the file's is %s" % (seq, h["sha256"], want))
    key = "t/%d/%d/%s" % (job, seq, path.split("/")[1]) if seq >= 4500 else "sha256/%s/%s/%s" % (want[:2], want[2:4], want)
    if h.get("body_url") != "s3://shoal/" + key:
        bad.append("seq %d: body_url %s, expected s3://shoal/%s" % (seq, h.get("body_url"), key))
    want_type = "application/x-shoal-test" if seq >= 4500 else h["headers"]["content-type"]
    if h.get("content_type") != want_type:
        bad.append("seq %d: content_type %s, expected %s" % (seq, h.get("content_type"), want_type))
    o = objs.get(key)
    if not o:
        bad.append("seq %d: no object %s in the bucket" % (seq, key))
    elif o[1] != want or o[0] != h["bytes"] or o[2] != want_type:
        bad.append("seq %d: object %s is %s" % (seq, key, o))
content = [k for k in objs if k.startswith("sha256/")]
if len(content) != 4000:
    bad.append("%d content-addressed objects, expected 4000 (duplicates stored once)" % len(content))
if len([k for k in objs if k.startswith("t/")]) != 500:
    bad.append("templated objects: %d, expected 500" % len([k for k in objs if k.startswith("t/")]))
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
PY
t_log "ok: 5000 results, 4500 objects (4000 by content + 500 templated), SHA-256 checked by boto3"
t_assert_eq "no spool file left" "" "$(ls -A "$T_DIR/spool")"
t_assert_eq "no multipart upload left" 0 "$(s3py uploads shoal)"

# a local file: uploaded, its hash computed by the worker, deleted once stored
cp "$T_DIR/local.txt" "$T_DIR/keep.txt"
cat > "$T_DIR/upload.jsonl" <<J
{"upload_s3": "$T_DIR/local.txt", "s3_bucket": "shoal", "s3_key": "local/{{filename}}", "upload_s3_delete": true}
{"upload_s3": "$T_DIR/keep.txt", "s3_bucket": "shoal", "s3_content_type": "text/plain"}
{"upload_s3": "$T_DIR/missing.txt", "s3_bucket": "shoal"}
J
job2=$(shoal submit "$T_DIR/upload.jsonl" --name s3-upload -q)
t_wait_done "$job2" 60
local_sha=$(sha256sum < "$T_DIR/keep.txt" | cut -d' ' -f1)
t_assert_eq "upload_s3 with a key template" "ok|s3://shoal/local/local.txt|$local_sha|26" \
    "$(t_sql "SELECT outcome, body_url, sha256, bytes FROM results WHERE job_id = $job2 AND seq = 0")"
t_assert_eq "upload_s3_delete removed the file" no "$([ -e "$T_DIR/local.txt" ] && echo yes || echo no)"
t_assert_eq "upload_s3 by content, kept" "ok|s3://shoal/sha256/${local_sha:0:2}/${local_sha:2:2}/$local_sha|text/plain|yes" \
    "$(t_sql "SELECT outcome, body_url, content_type FROM results WHERE job_id = $job2 AND seq = 1")|$([ -e "$T_DIR/keep.txt" ] && echo yes)"
t_assert_eq "the objects" "local/local.txt 26 $local_sha application/octet-stream" "$(s3py objects shoal local/ | cut -d' ' -f1-4)"
t_assert_eq "a missing file fails at once" "failed|1" "$(t_sql "SELECT outcome, attempt FROM results WHERE job_id = $job2 AND seq = 2")"
t_sql "SELECT error FROM results WHERE job_id = $job2 AND seq = 2" | grep -q "missing.txt: No such file" || t_fail "the error does not name the file"
t_log "pass"
