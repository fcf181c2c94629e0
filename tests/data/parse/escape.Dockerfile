# escape=`
FROM mcr.microsoft.com/windows/nanoserver
RUN dir c:\ `
    && echo done
LABEL description="tab	here" unicode="héllo ✓" ctrl="esc[0m" quote="say \"hi\""
