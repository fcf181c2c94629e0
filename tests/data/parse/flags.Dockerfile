FROM --platform=linux/arm64 alpine AS base
COPY --chown=app:app --chmod=0644 --link --parents --exclude=*.md --exclude=tmp/ src/ docs/ /app/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d --keep-git-dir --unpack=false https://example.com/a.tar.gz /a/
HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=10s --start-interval=2s --retries=5 CMD wget -q -O- http://localhost/
EXPOSE 80/tcp 443
VOLUME ["/data"]
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-eu", "-c"]
