FROM alpine
RUN --mount=type=bind,source=go.mod,target=/src/go.mod \
    --mount=type=cache,target=/var/cache/apk,sharing=private,mode=0775,uid=100,gid=101 \
    --mount=type=tmpfs,target=/tmp,size=64m \
    --mount=type=secret,id=npmrc,required \
    --mount=type=secret,id=token,env=API_TOKEN \
    --mount=type=ssh,id=github \
    --network=none --security=sandbox \
    apk add build-base
