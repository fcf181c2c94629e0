FROM alpine
RUN echo ok

COPY --chmown=root:root a /b
